import { describe, it, expect, beforeEach, afterEach, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import type { PackageLoader } from "../../src/backend/webgpu";
import { explainNoAdapter, nodeLoader, probeWebGpu } from "../../src/backend/webgpu";

type BackendModule = typeof import("../../src/backend/backend");

/** A fresh copy of src/backend (its choice is per process; tfjs's engine stays shared). */
async function freshBackendModule(): Promise<BackendModule> {
  vi.resetModules();
  return import("../../src/backend/backend");
}

/** A loader whose listed packages "exist" and load through the given functions; others defer to Node. */
function fakeLoader(fakes: Record<string, () => unknown>): PackageLoader & { loaded: string[] } {
  const loaded: string[] = [];
  return {
    loaded,
    resolve: (id) => (id in fakes ? `/fake/${id}` : nodeLoader.resolve(id)),
    load: (id) => {
      const pkg = id.replace(/\/package\.json$/, "");
      if (pkg in fakes) {
        if (id.endsWith("/package.json")) return { version: "9.9.9" };
        loaded.push(id);
        return fakes[pkg]();
      }
      return nodeLoader.load(id);
    },
  };
}

/** What a loaded tfjs-node(-gpu) does: registers a 'tensorflow' backend (here a cpu instance). */
function registerFakeTensorflow(gpu: boolean): void {
  const cpu = tf.findBackendFactory("cpu")!;
  tf.registerBackend(
    "tensorflow",
    () => Object.assign(cpu() as tf.KernelBackend, { isUsingGpuDevice: gpu, binding: { TF_Version: "2.9.1" } }),
    3,
  );
}

const NOT_INSTALLED = {
  gpu: nodeLoader.resolve("@tensorflow/tfjs-node-gpu") === undefined,
  node: nodeLoader.resolve("@tensorflow/tfjs-node") === undefined,
};

const savedEnv = process.env.TFJS_BACKEND;
beforeEach(async () => {
  delete process.env.TFJS_BACKEND;
  await tf.setBackend("cpu");
});
afterEach(async () => {
  if (savedEnv === undefined) delete process.env.TFJS_BACKEND;
  else process.env.TFJS_BACKEND = savedEnv;
  await tf.setBackend("cpu");
  for (const name of ["tensorflow", "webgpu"]) if (tf.findBackendFactory(name)) tf.removeBackend(name);
});

describe("explicit choices", () => {
  it("an unknown name lists the allowed ones, from the argument or TFJS_BACKEND", async () => {
    const { setupBackend, describeBackendChoice } = await freshBackendModule();
    await expect(setupBackend({ backend: "cuda" })).rejects.toThrow(
      /setupBackend\(\{backend: "cuda"\}\): unknown backend "cuda"; use one of gpu, node, webgpu, wasm, cpu \(or auto\)/,
    );
    process.env.TFJS_BACKEND = "tpu";
    await expect(setupBackend()).rejects.toThrow(
      /TFJS_BACKEND=tpu: unknown backend "tpu"; use one of gpu, node, webgpu, wasm, cpu.*unset TFJS_BACKEND/,
    );
    await expect(describeBackendChoice()).rejects.toThrow(/unknown backend "tpu"/);
  });

  it.skipIf(!NOT_INSTALLED.gpu)(
    "TFJS_BACKEND=gpu without tfjs-node-gpu fails with the reason and the remedy",
    async () => {
      const { setupBackend } = await freshBackendModule();
      process.env.TFJS_BACKEND = "gpu";
      const err = await setupBackend().catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^TFJS_BACKEND=gpu: @tensorflow\/tfjs-node-gpu is not installed/);
      expect(msg).toMatch(/needs network access/);
      expect(msg).toMatch(
        /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0 on Linux x64 with an NVIDIA driver, CUDA 11\.2 and cuDNN 8\.1/,
      );
      expect(msg).toMatch(/or unset TFJS_BACKEND$/);
      expect(tf.getBackend()).toBe("cpu"); // nothing changed
    },
  );

  it.skipIf(!NOT_INSTALLED.node)("node without tfjs-node fails naming the package and the remedy", async () => {
    const { setupBackend } = await freshBackendModule();
    await expect(setupBackend({ backend: "node" })).rejects.toThrow(
      /@tensorflow\/tfjs-node is not installed.*npm install @tensorflow\/tfjs-node@4\.22\.0.*or choose another backend/,
    );
  });

  it("webgpu that cannot run here fails with a clear reason and remedy", async () => {
    const probe = await probeWebGpu();
    if (probe.ok) return; // a machine with a real adapter: covered by the fake-Dawn tests below
    const { setupBackend } = await freshBackendModule();
    const err = (await setupBackend({ backend: "webgpu" }).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(`setupBackend({backend: "webgpu"}): ${probe.reason}`);
    expect(err.message).toMatch(/not installed|Vulkan|adapter|lavapipe/);
    expect(err.message).toMatch(/npm install @tensorflow\/tfjs-backend-webgpu@4\.22\.0 webgpu|TFJS_BACKEND=wasm/);
  });

  it("a TensorFlow package that is installed but fails to load says so", async () => {
    const { setupBackend } = await freshBackendModule();
    const loader = fakeLoader({
      "@tensorflow/tfjs-node-gpu": () => {
        throw new Error("libcudart.so.11.0: cannot open shared object file\nstack");
      },
    });
    await expect(setupBackend({ backend: "gpu", loader })).rejects.toThrow(
      /@tensorflow\/tfjs-node-gpu is installed but failed to load: libcudart\.so\.11\.0: cannot open shared object file; .*CUDA 11\.2 and cuDNN 8\.1.*kernel:doctor/,
    );
  });

  it("cpu and wasm can be named, and a second call keeps the choice unless another is named", async () => {
    const { setupBackend, formatBackendInfo } = await freshBackendModule();
    const before = tf.memory().numTensors;
    const cpu = await setupBackend({ backend: "cpu" });
    expect(cpu).toMatchObject({ name: "cpu", tfBackend: "cpu", source: "args", skipped: [] });
    expect(cpu.reason).toMatch(/requested by setupBackend\(\{backend: "cpu"\}\)/);
    expect((await setupBackend()).name).toBe("cpu");
    process.env.TFJS_BACKEND = "wasm";
    const wasm = await setupBackend();
    expect(wasm).toMatchObject({
      name: "wasm",
      tfBackend: "wasm",
      source: "TFJS_BACKEND",
      matmulFix: true,
      threads: 1,
    });
    expect(tf.getBackend()).toBe("wasm");
    expect(formatBackendInfo(wasm).split("\n")[0]).toBe("backend: wasm");
    expect(wasm.versions).toMatchObject({
      tfjs: "4.22.0",
      "tfjs-core": "4.22.0",
      "@tensorflow/tfjs-backend-wasm": "4.22.0",
      node: process.versions.node,
    });
    const stock = await setupBackend({ matmulFix: false });
    expect(stock).toMatchObject({ name: "wasm", matmulFix: false });
    expect(stock.reason).toMatch(/stock matmul kernels/);
    expect((await setupBackend()).matmulFix).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("automatic order", () => {
  it("skips what is missing with reasons and lands on wasm here", async () => {
    if (!NOT_INSTALLED.gpu || !NOT_INSTALLED.node || (await probeWebGpu()).ok) return;
    const { setupBackend, formatBackendInfo } = await freshBackendModule();
    const info = await setupBackend();
    expect(info.name).toBe("wasm");
    expect(info.source).toBe("automatic");
    expect(info.skipped.map((s) => s.candidate)).toEqual(["tensorflow-gpu", "tensorflow", "webgpu"]);
    expect(info.skipped[0].reason).toMatch(/not installed/);
    expect(info.skipped[0].remedy).toMatch(/npm install @tensorflow\/tfjs-node-gpu/);
    const text = formatBackendInfo(info);
    expect(text).toMatch(/^backend: wasm\n/);
    expect(text).toMatch(/skipped tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    expect(text).toMatch(/WASM matmul fix: on, threads: 1/);
    // Idempotent: same choice, nothing re-run.
    expect((await setupBackend()).name).toBe("wasm");
  });

  it("takes tfjs-node-gpu first when it loads, and reports whether CUDA is visible", async () => {
    const { setupBackend, formatBackendInfo } = await freshBackendModule();
    const loader = fakeLoader({
      "@tensorflow/tfjs-node-gpu": () => registerFakeTensorflow(true),
      "@tensorflow/tfjs-node": () => registerFakeTensorflow(false),
    });
    const info = await setupBackend({ loader });
    expect(info).toMatchObject({ name: "tensorflow-gpu", tfBackend: "tensorflow", cudaGpuVisible: true, skipped: [] });
    expect(info.versions).toMatchObject({ "@tensorflow/tfjs-node-gpu": "9.9.9", libtensorflow: "2.9.1" });
    expect(loader.loaded).toEqual(["@tensorflow/tfjs-node-gpu"]);
    expect(formatBackendInfo(info)).toMatch(/^backend: tensorflow-gpu\n[\s\S]*CUDA GPU visible: yes/);
  });

  it("falls to tfjs-node when the GPU build fails to load, and refuses to mix the two in one process", async () => {
    const { setupBackend } = await freshBackendModule();
    const loader = fakeLoader({
      "@tensorflow/tfjs-node-gpu": () => {
        throw new Error("libtensorflow.so.2: cannot open shared object file");
      },
      "@tensorflow/tfjs-node": () => registerFakeTensorflow(false),
    });
    const info = await setupBackend({ loader });
    expect(info).toMatchObject({ name: "tensorflow", cudaGpuVisible: false });
    expect(info.skipped).toHaveLength(1);
    expect(info.skipped[0]).toMatchObject({ candidate: "tensorflow-gpu" });
    expect(info.skipped[0].reason).toMatch(/failed to load: libtensorflow\.so\.2/);

    await tf.setBackend("cpu");
    tf.removeBackend("tensorflow");
    const { setupBackend: again } = await freshBackendModule();
    const mixed = fakeLoader({
      "@tensorflow/tfjs-node-gpu": () => registerFakeTensorflow(true),
      "@tensorflow/tfjs-node": () => registerFakeTensorflow(false),
    });
    await again({ backend: "node", loader: mixed });
    await expect(again({ backend: "gpu", loader: mixed })).rejects.toThrow(
      /@tensorflow\/tfjs-node is already loaded in this process.*restart the kernel/,
    );
  });

  it("skips WebGPU with the reason when Dawn finds no adapter, then takes wasm", async () => {
    if (!NOT_INSTALLED.gpu || !NOT_INSTALLED.node) return;
    const { setupBackend } = await freshBackendModule();
    const loader = fakeLoader({
      webgpu: () => ({ create: () => ({ requestAdapter: async () => null }), globals: {} }),
      "@tensorflow/tfjs-backend-webgpu": () => {
        throw new Error("must not load without an adapter");
      },
    });
    const info = await setupBackend({ loader });
    expect(info.name).toBe("wasm");
    expect(info.skipped[2]).toEqual({
      candidate: "webgpu",
      reason: explainNoAdapter(),
      remedy: expect.stringMatching(/Vulkan.*TFJS_BACKEND=wasm/),
    });
    expect(loader.loaded).toEqual(["webgpu"]);
  });

  it("uses WebGPU when Dawn finds an adapter and tfjs-backend-webgpu registers", async () => {
    if (!NOT_INSTALLED.gpu || !NOT_INSTALLED.node) return;
    const { setupBackend, formatBackendInfo } = await freshBackendModule();
    const gpu = { requestAdapter: async () => ({ info: { vendor: "nvidia", architecture: "hopper" } }) };
    const loader = fakeLoader({
      webgpu: () => ({ create: () => gpu, globals: { GPUBufferUsageFake: { MAP_READ: 1 } } }),
      "@tensorflow/tfjs-backend-webgpu": () => tf.registerBackend("webgpu", tf.findBackendFactory("cpu")!, 3),
    });
    const g = globalThis as unknown as { navigator?: { gpu?: unknown }; GPUBufferUsageFake?: unknown };
    const hadNavigator = "navigator" in globalThis;
    try {
      const info = await setupBackend({ loader });
      expect(info).toMatchObject({ name: "webgpu", tfBackend: "webgpu", adapter: "nvidia hopper" });
      expect(info.versions.webgpu).toBe("9.9.9");
      expect(g.navigator?.gpu).toBe(gpu);
      expect(g.GPUBufferUsageFake).toEqual({ MAP_READ: 1 });
      expect(formatBackendInfo(info)).toMatch(/^backend: webgpu\n[\s\S]*WebGPU adapter: nvidia hopper/);
    } finally {
      delete g.GPUBufferUsageFake;
      if (!hadNavigator) delete g.navigator;
      else if (g.navigator) delete g.navigator.gpu;
    }
  });

  it("a Dawn binding that fails to load is a skip reason, not a crash", async () => {
    const { setupBackend } = await freshBackendModule();
    const loader = fakeLoader({
      webgpu: () => {
        throw new Error("GLIBC_2.38 not found");
      },
      "@tensorflow/tfjs-backend-webgpu": () => undefined,
    });
    await expect(setupBackend({ backend: "webgpu", loader })).rejects.toThrow(
      /the webgpu package \(Dawn\) failed to load: GLIBC_2\.38 not found/,
    );
  });
});

describe("explainNoAdapter", () => {
  it("names the missing Vulkan piece, and lavapipe's rejection", () => {
    expect(explainNoAdapter({ loader: false, icds: [] })).toMatch(/libvulkan\.so\.1 not found/);
    expect(explainNoAdapter({ loader: true, icds: [] })).toMatch(/no Vulkan driver installed/);
    expect(explainNoAdapter({ loader: true, icds: ["lvp_icd.x86_64.json"] })).toMatch(/lavapipe.*Dawn rejects/);
    expect(explainNoAdapter({ loader: true, icds: ["lvp_icd.x86_64.json", "nvidia_icd.json"] })).toMatch(
      /nvidia_icd\.json.*no adapter/,
    );
  });
});

describe("describeBackendChoice", () => {
  it("tells what would be chosen without changing tfjs's backend", async () => {
    const { describeBackendChoice } = await freshBackendModule();
    const d = await describeBackendChoice();
    expect(tf.getBackend()).toBe("cpu");
    expect(d.candidates.map((c) => c.candidate)).toEqual(["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"]);
    if (NOT_INSTALLED.gpu && NOT_INSTALLED.node && d.candidates[2].available === "no") {
      expect(d).toMatchObject({ name: "wasm", source: "automatic" });
      expect(d.reason).toMatch(/skipped tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    }
    const installed = await describeBackendChoice({
      loader: fakeLoader({
        "@tensorflow/tfjs-node-gpu": () => {
          throw new Error("not to be loaded");
        },
      }),
    });
    expect(installed.name).toBe("tensorflow-gpu");
    expect(installed.candidates[0]).toMatchObject({
      available: "maybe",
      reason: expect.stringMatching(/9\.9\.9 is installed/),
    });
  });

  it("gives the error an impossible explicit choice would throw", async () => {
    if (!NOT_INSTALLED.gpu) return;
    const { describeBackendChoice, setupBackend } = await freshBackendModule();
    process.env.TFJS_BACKEND = "gpu";
    const d = await describeBackendChoice();
    expect(d.name).toBe("none");
    const thrown = (await setupBackend().catch((e: Error) => e)) as Error;
    expect(d.error).toBe(thrown.message);
  });
});

describe("the cpu backend's Node.js banner", () => {
  it("is not printed when cpu is chosen", async () => {
    // A fresh cpu backend instance, so its first write happens inside this test.
    const factory = tf.findBackendFactory("cpu")!;
    tf.removeBackend("cpu");
    tf.registerBackend("cpu", factory, 1);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const { setupBackend } = await freshBackendModule();
      await setupBackend({ backend: "cpu" });
      tf.tensor([1, 2]).dispose();
      expect(warn.mock.calls.flat().join(" ")).not.toMatch(/Hi, looks like you are running TensorFlow\.js in Node\.js/);
    } finally {
      warn.mockRestore();
    }
  });
});
