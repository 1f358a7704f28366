// The PEFT methods (src/adapt/peft): every method but prompt tuning starts equal to its base; after a
// few fit() steps only the method's own weights and the head moved; parameter counts match what
// trains; merges are exact; adapter-only save/load round-trips; bad arguments get named errors; no
// tensor leaks.
import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildViT } from "../../src/models/transformer";
import {
  applyPeft,
  loadPeft,
  mergePeft,
  methodParamCount,
  peftParamCount,
  PEFT_LAYER_CLASSES,
  PEFT_METHODS,
  savePeft,
  specForBudget,
  type PeftSpec,
} from "../../src/adapt/peft/peft";
import { assertFrozenUnchanged, compareWeights, countParams, snapshotWeights } from "../../src/adapt/freezing";
import { fit } from "../../src/train/fit";
import { rng } from "../../src/core/random";
import type { Dataset } from "../../src/data/types";
import { maxOutputDiff } from "../../src/evaluate/compare";
import { roundTrip } from "../helpers/fixtures";
import { buildSourceModel } from "../../src/models/mlp";
import { cloneModel } from "../../src/models/surgery";
import { adapterParams as adapterSize } from "../../src/adapt/peft/adapters";

const SMALL = { width: 16, depth: 2, numHeads: 2, stemChannels: 4, seed: 3 };
const DIM = 784;

function data(n: number, seed: number): Dataset {
  const r = rng(seed);
  const x = new Float32Array(n * DIM);
  for (let i = 0; i < x.length; i++) x[i] = r();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 10;
  return { x, y, n, dim: DIM, numClasses: 10, name: "random" };
}

const SPECS: PeftSpec[] = [
  { method: "lora", r: 2 },
  { method: "houlsby", bottleneck: 3 },
  { method: "pfeiffer", bottleneck: 3 },
  { method: "bitfit" },
  { method: "ia3" },
  { method: "prompt", tokens: 2 },
];

let base: tf.LayersModel;
let xs: tf.Tensor2D;
const train = data(16, 1);

beforeAll(async () => {
  await tf.setBackend("cpu");
  base = buildViT(SMALL);
  const d = data(8, 2);
  xs = tf.tensor2d(d.x, [d.n, DIM]);
});

function headParams(m: tf.LayersModel): number {
  return m.getLayer("head").countParams();
}

describe("applyPeft", () => {
  it("covers every method of PEFT_METHODS", () => {
    expect(SPECS.map((s) => s.method).sort()).toEqual([...PEFT_METHODS].sort());
  });

  for (const spec of SPECS.filter((s) => s.method !== "prompt")) {
    it(`${spec.method}: outputs equal the base's at initialisation`, () => {
      const m = applyPeft(base, spec);
      try {
        expect(maxOutputDiff(base, m, xs)).toBeLessThan(1e-6);
      } finally {
        m.dispose();
      }
    });
  }

  it("prompt: NOT equal at initialisation (prompts join every attention), the pool sees patch tokens only", () => {
    const m = applyPeft(base, { method: "prompt", tokens: 3 });
    try {
      const diff = maxOutputDiff(base, m, xs);
      expect(diff).toBeGreaterThan(0);
      expect(Number.isFinite(diff)).toBe(true);
      expect(m.getLayer("prompt").outputShape).toEqual([null, 16 + 3, 16]);
      expect(m.getLayer("prompt_drop").outputShape).toEqual([null, 16, 16]);
      const p = m.predict(xs) as tf.Tensor;
      const sums = p.sum(1);
      expect(Math.max(...Array.from(sums.dataSync()).map((s) => Math.abs(s - 1)))).toBeLessThan(1e-5);
      tf.dispose([p, sums]);
    } finally {
      m.dispose();
    }
  });

  for (const spec of SPECS) {
    it(`${spec.method}: peftParamCount = the counted trainable weights minus the head (and = all trainable without the head)`, () => {
      const n = peftParamCount(base, spec);
      expect(n).toBeGreaterThan(0);
      const withHead = applyPeft(base, spec);
      const noHead = applyPeft(base, spec, { trainHead: false });
      try {
        expect(countParams(withHead).trainable - headParams(base)).toBe(n);
        expect(countParams(noHead).trainable).toBe(n);
        expect(methodParamCount(withHead)).toBe(n);
        expect(noHead.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0)).toBe(
          n,
        );
      } finally {
        withHead.dispose();
        noHead.dispose();
      }
    });

    it(`${spec.method}: after fit() steps only the method's weights and the head moved; the base is untouched`, async () => {
      const baseSnap = snapshotWeights(base);
      const m = applyPeft(base, spec, { seed: 1 });
      try {
        const snap = snapshotWeights(m);
        const h = await fit(m, train, { epochs: 2, batchSize: 8, learningRate: 1e-2, seed: 0 });
        expect(h.trainableParams).toBe(peftParamCount(base, spec) + headParams(base));
        const changes = assertFrozenUnchanged(m, snap);
        const moved = changes.filter((c) => c.changed);
        const own = (c: { layer: string; weight: string }) => {
          const cls = m.getLayer(c.layer).getClassName();
          if (c.layer === "head") return true;
          if (spec.method === "bitfit") return /\/(bias|beta)$/.test(c.weight);
          if (spec.method === "lora") return cls === "LoraDense" && /lora_[AB]$/.test(c.weight);
          if (spec.method === "houlsby" && /^block\d+_ln[12]$/.test(c.layer)) return true; // the paper trains the LNs
          return PEFT_LAYER_CLASSES.includes(cls);
        };
        expect(moved.filter((c) => !own(c))).toEqual([]);
        // Every own weight moved, except attention key biases: softmax ignores a constant added to every logit.
        const still = changes.filter((c) => !c.changed && !c.frozen && !/_k\/bias$/.test(c.weight));
        expect(still).toEqual([]);
        expect(moved.length).toBeGreaterThan(0);
        expect(compareWeights(base, baseSnap).filter((c) => c.changed)).toEqual([]);
      } finally {
        m.dispose();
      }
    });
  }

  it("bitfit: per-weight trainability is what fit(), countParams and snapshotWeights see (a frozen kernel that moves is caught)", () => {
    const m = applyPeft(base, { method: "bitfit" }, { trainHead: false });
    try {
      const q = m.getLayer("block0_q");
      expect(q.trainable).toBe(true);
      expect(q.trainableWeights.map((w) => w.originalName)).toEqual(["block0_q/bias"]);
      expect(m.getLayer("pos_embed").trainable).toBe(false);
      expect(m.getLayer("head").trainableWeights).toEqual([]);
      const snap = snapshotWeights(m);
      const entry = snap.entries.find((e) => e.layer === "block0_q" && e.weight === "block0_q/kernel")!;
      expect(entry.frozen).toBe(true);
      expect(snap.entries.find((e) => e.weight === "block0_q/bias")!.frozen).toBe(false);
      const kernel = q.weights.find((w) => w.originalName === "block0_q/kernel")!;
      const moved = tf.tidy(() => kernel.read().add(1e-3));
      kernel.write(moved);
      moved.dispose();
      expect(() => assertFrozenUnchanged(m, snap)).toThrow(/frozen weights moved: block0_q\/kernel/);
    } finally {
      m.dispose();
    }
  });

  it("returns a new model and leaves no tensors behind once disposed (apply, count, budget, merge)", () => {
    const before = tf.memory().numTensors;
    for (const spec of SPECS) {
      const m = applyPeft(base, spec);
      peftParamCount(base, spec);
      specForBudget(base, spec.method, 1000);
      const merged = mergePeft(m);
      merged?.dispose();
      m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("PEFT layers serialize (registered classes): a full save/load gives the same outputs", async () => {
    for (const spec of SPECS) {
      const m = applyPeft(base, spec);
      const back = await roundTrip(m);
      try {
        expect(maxOutputDiff(m, back, xs)).toBe(0);
      } finally {
        m.dispose();
        back.dispose();
      }
    }
  });
});

describe("mergePeft", () => {
  for (const spec of SPECS) {
    const mergeable = ["lora", "ia3", "bitfit"].includes(spec.method);
    it(`${spec.method}: ${mergeable ? "a plain model with the same outputs after training" : "null (not mergeable)"}`, async () => {
      const m = applyPeft(base, spec, { seed: 2 });
      try {
        await fit(m, train, { epochs: 1, batchSize: 8, learningRate: 3e-2, seed: 1 });
        const merged = mergePeft(m);
        if (!mergeable) {
          expect(merged).toBeNull();
          return;
        }
        try {
          expect(merged).not.toBeNull();
          expect(merged!.layers.filter((l) => PEFT_LAYER_CLASSES.includes(l.getClassName()))).toEqual([]);
          expect(merged!.layers.map((l) => l.name)).toEqual(base.layers.map((l) => l.name));
          expect(maxOutputDiff(base, m, xs)).toBeGreaterThan(1e-4); // training changed something
          expect(maxOutputDiff(m, merged!, xs)).toBeLessThan(1e-4);
          expect(countParams(merged!).trainable).toBe(countParams(base).all);
        } finally {
          merged?.dispose();
        }
      } finally {
        m.dispose();
      }
    });
  }
});

describe("savePeft / loadPeft", () => {
  for (const spec of SPECS) {
    it(`${spec.method}: the adapter-only save round-trips to identical outputs`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peft-"));
      const m = applyPeft(base, spec, { seed: 4, trainHead: spec.method !== "ia3" });
      try {
        await fit(m, train, { epochs: 1, batchSize: 8, learningRate: 1e-2, seed: 2 });
        const { bytes } = await savePeft(m, dir);
        const headBytes = spec.method === "ia3" ? 0 : 4 * headParams(base);
        expect(bytes).toBeGreaterThan(4 * peftParamCount(base, spec) + headBytes);
        expect(bytes).toBeLessThan(4 * (peftParamCount(base, spec) + headBytes / 4) + 4096);
        const before = tf.memory().numTensors;
        const back = loadPeft(base, dir);
        try {
          expect(maxOutputDiff(m, back, xs)).toBe(0);
          expect(countParams(back).trainable).toBe(countParams(m).trainable);
          const merged = mergePeft(back);
          merged?.dispose();
        } finally {
          back.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        m.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("a damaged data file, another base or a missing folder gets a clear error", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peft-"));
    const m = applyPeft(base, { method: "houlsby", bottleneck: 2 });
    const other = buildViT({ ...SMALL, width: 8 });
    try {
      await savePeft(m, dir);
      expect(() => loadPeft(other, dir)).toThrow(/loadPeft: base is not the model this PEFT save was trained on/);
      const bin = fs.readdirSync(dir).find((f) => f.endsWith(".bin"))!;
      const file = path.join(dir, bin);
      const buf = fs.readFileSync(file);
      buf[0] ^= 0xff;
      fs.writeFileSync(file, buf);
      const before = tf.memory().numTensors;
      expect(() => loadPeft(base, dir)).toThrow(/loadPeft: .* does not match its checksum: sha256 expected/);
      expect(tf.memory().numTensors).toBe(before);
      expect(() => loadPeft(base, path.join(dir, "nope"))).toThrow(/loadPeft: .*peft.json does not exist/);
      await expect(savePeft(base, dir)).rejects.toThrow(
        /savePeft: model must be a model made by applyPeft or loadPeft/,
      );
    } finally {
      m.dispose();
      other.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("peftParamCount and specForBudget", () => {
  it("closest size for every sized method (checked against every knob up to 300)", () => {
    for (const method of ["lora", "houlsby", "pfeiffer", "prompt"] as const) {
      for (const budget of [1, 100, 1000, 5000, 20000]) {
        const spec = specForBudget(base, method, budget);
        const gap = Math.abs(peftParamCount(base, spec) - budget);
        for (let k = 1; k <= 300; k++) {
          const s: PeftSpec =
            method === "lora"
              ? { method, r: k }
              : method === "prompt"
                ? { method, tokens: k }
                : { method, bottleneck: k };
          expect(Math.abs(peftParamCount(base, s) - budget)).toBeGreaterThanOrEqual(gap);
        }
      }
    }
    expect(specForBudget(base, "bitfit", 10)).toEqual({ method: "bitfit" });
    expect(specForBudget(base, "ia3", 1e6)).toEqual({ method: "ia3" });
  });

  it("at the default ViT size (width 64, depth 4, mlpRatio 2, stem 8) the counts follow the formulas", () => {
    const vit = buildViT({ stemChannels: 8 });
    try {
      const d = 64;
      const L = 4;
      expect(peftParamCount(vit, { method: "lora", r: 1 })).toBe(L * 2 * (d + d));
      // Houlsby: two adapters per block plus the block's two LayerNorms (gamma and beta: 4·d).
      expect(peftParamCount(vit, { method: "houlsby", bottleneck: 1 })).toBe(L * 2 * (2 * d + 1 + d) + L * 4 * d);
      expect(peftParamCount(vit, { method: "pfeiffer", bottleneck: 1 })).toBe(L * (2 * d + 1 + d));
      expect(peftParamCount(vit, { method: "ia3" })).toBe(L * (d + d + 2 * d));
      expect(peftParamCount(vit, { method: "prompt", tokens: 1 })).toBe(d);
      // stem bias 8, patch_embed 64; per block ln1 β, q/k/v/o biases, ln2 β, mlp1 (128), mlp2; final_ln β
      expect(peftParamCount(vit, { method: "bitfit" })).toBe(8 + d + L * (d + 4 * d + d + 2 * d + d) + d);
      const rows = PEFT_METHODS.map(
        (method) =>
          `${method}: ` +
          [1000, 5000, 20000]
            .map((b) => {
              const s = specForBudget(vit, method, b);
              return `${b} -> ${JSON.stringify(s)} = ${peftParamCount(vit, s)}`;
            })
            .join("; "),
      );
      console.log(rows.join("\n"));
    } finally {
      vit.dispose();
    }
  });
});

describe("named errors", () => {
  it("bad specs, options and bases name the parameter, the value and what is allowed", () => {
    const bad: [unknown, RegExp][] = [
      [null, /applyPeft: spec must be an object \{ method, \.\.\. \} with method one of lora, houlsby/],
      [
        { method: "adapter" },
        /applyPeft: spec.method must be one of lora, houlsby, pfeiffer, bitfit, ia3, prompt, got "adapter"/,
      ],
      [{ method: "lora", r: 0 }, /applyPeft: spec.r must be a positive integer, got 0/],
      [{ method: "lora", r: 2, alpha: -1 }, /applyPeft: spec.alpha must be a finite number > 0, got -1/],
      [{ method: "lora", rank: 2 }, /applyPeft: spec.rank must be absent \(a lora spec takes r, alpha\), got 2/],
      [{ method: "houlsby", bottleneck: 1.5 }, /applyPeft: spec.bottleneck must be a positive integer, got 1.5/],
      [{ method: "pfeiffer" }, /applyPeft: spec.bottleneck must be a positive integer, got undefined/],
      [{ method: "prompt", tokens: -1 }, /applyPeft: spec.tokens must be a positive integer, got -1/],
      [{ method: "bitfit", r: 4 }, /applyPeft: spec.r must be absent \(a bitfit spec takes no field besides method\)/],
    ];
    const before = tf.memory().numTensors;
    for (const [spec, re] of bad) expect(() => applyPeft(base, spec as PeftSpec)).toThrow(re);
    expect(() => applyPeft(base, { method: "ia3" }, { trainHead: "yes" as unknown as boolean })).toThrow(
      /applyPeft: options.trainHead must be true or false, got "yes"/,
    );
    expect(() => applyPeft(base, { method: "ia3" }, { seed: NaN })).toThrow(
      /applyPeft: options.seed must be a finite number, got NaN/,
    );
    expect(() => applyPeft(base, { method: "ia3" }, { lr: 1 } as unknown as object)).toThrow(
      /applyPeft: options.lr must be absent/,
    );
    expect(() => applyPeft("model" as unknown as tf.LayersModel, { method: "ia3" })).toThrow(
      /applyPeft: base must be a tf.LayersModel, got "model"/,
    );
    expect(() => specForBudget(base, "adapters" as "lora", 10)).toThrow(/specForBudget: method must be one of lora/);
    expect(() => specForBudget(base, "lora", -5)).toThrow(
      /specForBudget: budget must be a number of parameters > 0, got -5/,
    );
    expect(() => peftParamCount(base, { method: "lora", r: 1.5 })).toThrow(
      /peftParamCount: spec.r must be a positive integer, got 1.5/,
    );
    expect(() => mergePeft(base)).toThrow(/mergePeft: model must be a model made by applyPeft or loadPeft, got model/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a base without the method's layers, or with PEFT layers already, is refused before anything is built", () => {
    const mlp = buildSourceModel({ hiddenUnits: [8], inputDim: 12, numClasses: 3 });
    const m = applyPeft(base, { method: "ia3" });
    try {
      const before = tf.memory().numTensors;
      expect(() => applyPeft(mlp, { method: "houlsby", bottleneck: 2 })).toThrow(
        /applyPeft: base must be a ViT from buildViT with block layers matching .*, got a model with layers pixels, hidden1, head/,
      );
      expect(() => applyPeft(mlp, { method: "lora", r: 2 })).toThrow(/applyPeft: targets .* matched no Dense layer/);
      expect(() => applyPeft(mlp, { method: "prompt", tokens: 2 })).toThrow(/applyPeft: base must be a ViT/);
      expect(() => applyPeft(m, { method: "lora", r: 2 })).toThrow(
        /applyPeft: base must be a model without PEFT layers, got a model with block0_k_ia3 \(IA3Scale\)/,
      );
      expect(tf.memory().numTensors).toBe(before);
      const seq = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: "head" })] });
      expect(() => applyPeft(seq, { method: "bitfit" })).toThrow(
        /applyPeft: base must be a functional model \(tf.model\), got the Sequential model/,
      );
      seq.dispose();
      // BitFit needs no particular layer: it works on the MLP as well.
      const b = applyPeft(mlp, { method: "bitfit" }, { trainHead: false });
      expect(countParams(b).trainable).toBe(8);
      b.dispose();
    } finally {
      mlp.dispose();
      m.dispose();
    }
  });
});

describe("review fixes: BitFit's guard, Houlsby's LayerNorms, adapter placement, the base fingerprint", () => {
  const sizeOf = (ws: tf.LayerVariable[]) =>
    ws.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

  it("bitfit: layer.trainable = true and model.trainable = false/true do not unfreeze a kernel; fit moves biases and the head only", async () => {
    const m = applyPeft(base, { method: "bitfit" }, { seed: 1 });
    try {
      const n = peftParamCount(base, { method: "bitfit" }) + headParams(base);
      m.trainable = false;
      expect(m.trainableWeights).toEqual([]);
      m.trainable = true;
      for (const l of m.layers) l.trainable = true;
      m.trainable = true;
      expect(sizeOf(m.trainableWeights)).toBe(n);
      expect(countParams(m).trainable).toBe(n);
      const q = m.getLayer("block0_q");
      expect(q.trainableWeights.map((w) => w.originalName)).toEqual(["block0_q/bias"]);
      // getWeights keeps the declared order (kernel first), whatever the flags.
      expect(q.weights.map((w) => w.originalName)).toEqual(["block0_q/kernel", "block0_q/bias"]);
      expect(m.getLayer("block0_ln1").weights.map((w) => w.originalName)).toEqual([
        "block0_ln1/gamma",
        "block0_ln1/beta",
      ]);
      expect(m.getLayer("pos_embed").trainableWeights).toEqual([]);
      const snap = snapshotWeights(m);
      const h = await fit(m, train, { epochs: 1, batchSize: 8, learningRate: 1e-2, seed: 0 });
      expect(h.trainableParams).toBe(n);
      const moved = assertFrozenUnchanged(m, snap).filter((c) => c.changed);
      expect(moved.filter((c) => c.layer !== "head" && !/\/(bias|beta)$/.test(c.weight))).toEqual([]);
      // layer.trainable = false still freezes the whole layer.
      q.trainable = false;
      expect(q.trainableWeights).toEqual([]);
      // The merged model is a plain one: everything trains.
      const merged = mergePeft(m)!;
      try {
        expect(countParams(merged).trainable).toBe(countParams(base).all);
      } finally {
        merged.dispose();
      }
    } finally {
      m.dispose();
    }
  });

  it("houlsby trains its adapters and every block's ln1/ln2 gamma and beta; pfeiffer leaves the LayerNorms frozen", () => {
    const h = applyPeft(base, { method: "houlsby", bottleneck: 2 }, { trainHead: false });
    const p = applyPeft(base, { method: "pfeiffer", bottleneck: 2 }, { trainHead: false });
    try {
      const names = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.originalName);
      for (const b of [0, 1])
        for (const ln of ["ln1", "ln2"])
          for (const w of ["gamma", "beta"]) {
            expect(names(h)).toContain(`block${b}_${ln}/${w}`);
            expect(names(p)).not.toContain(`block${b}_${ln}/${w}`);
          }
      expect(names(h)).not.toContain("final_ln/gamma");
      expect(countParams(h).trainable - countParams(p).trainable).toBe(
        2 * adapterSize(16, 2) + 2 * 4 * 16, // depth 2: one more adapter per block + 4·d LN parameters per block
      );
    } finally {
      h.dispose();
      p.dispose();
    }
  });

  it("adapter placement: houlsby o -> o_adapter -> add1 and mlp2 -> mlp2_adapter -> add2; pfeiffer o -> add1 directly", () => {
    const inputsOf = (m: tf.LayersModel, name: string) =>
      m.getLayer(name).inboundNodes[0].inboundLayers.map((l) => l.name);
    const h = applyPeft(base, { method: "houlsby", bottleneck: 2 });
    const p = applyPeft(base, { method: "pfeiffer", bottleneck: 2 });
    try {
      for (const b of [0, 1]) {
        expect(inputsOf(h, `block${b}_add1`)).toContain(`block${b}_o_adapter`);
        expect(inputsOf(h, `block${b}_o_adapter`)).toEqual([`block${b}_o`]);
        expect(inputsOf(h, `block${b}_add2`)).toContain(`block${b}_mlp2_adapter`);
        expect(inputsOf(h, `block${b}_mlp2_adapter`)).toEqual([`block${b}_mlp2`]);
        expect(inputsOf(p, `block${b}_add1`)).toContain(`block${b}_o`);
        expect(p.layers.map((l) => l.name)).not.toContain(`block${b}_o_adapter`);
        expect(inputsOf(p, `block${b}_add2`)).toContain(`block${b}_mlp2_adapter`);
        expect(inputsOf(p, `block${b}_add2`)).not.toContain(`block${b}_mlp2`);
      }
    } finally {
      h.dispose();
      p.dispose();
    }
  });

  it("loadPeft refuses a fine-tuned copy of the base (same shapes) with a named error, and takes the base itself", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peft-"));
    const m = applyPeft(base, { method: "lora", r: 2 });
    const tuned = cloneModel(base);
    try {
      await savePeft(m, dir);
      await fit(tuned, train, { epochs: 1, batchSize: 8, learningRate: 1e-2, seed: 3 });
      expect(maxOutputDiff(base, tuned, xs)).toBeGreaterThan(0);
      const before = tf.memory().numTensors;
      expect(() => loadPeft(tuned, dir)).toThrow(
        /loadPeft: base is not the model this PEFT save was trained on: sha256 of its \d+ frozen weights is [0-9a-f]{16}…, the save expects [0-9a-f]{16}…/,
      );
      expect(tf.memory().numTensors).toBe(before);
      const back = loadPeft(base, dir);
      back.dispose();
      const json = JSON.parse(fs.readFileSync(path.join(dir, "peft.json"), "utf8")) as { baseSha256: string };
      expect(json.baseSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      m.dispose();
      tuned.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
