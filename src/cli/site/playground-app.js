// The script of the site's Playground page (plain browser JavaScript, no build step: the site builder
// copies it to build/site/playground/). It loads the models the lessons exported with the browser's
// @tensorflow/tfjs (tf.min.js beside it), lets one draw a digit (pointer events: mouse, touch, pen) or
// pick a shifted task-B test image, and shows every model's class probabilities as bars.
//
// A drawing is brought to MNIST's form before it is predicted (toMnist): white ink on black, values in
// [0, 1]; the digit's bounding box scaled (area-averaged, aspect kept) to fit 20×20, then placed in
// 28×28 with its centre of mass at the centre. In Node (the unit tests) the file exports its pure
// functions through module.exports; in the page it defines window.TransferLabPlayground.
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.TransferLabPlayground = api;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /** MNIST's image side and the box its digits are scaled into. */
  const SIZE = 28;
  const BOX = 20;
  /** Ink above this (of 1) counts for the bounding box. */
  const INK = 0.02;

  /** Smallest box [x0, y0, x1, y1] (inclusive) holding every pixel above `threshold`; null when none. */
  function boundingBox(gray, width, height, threshold) {
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (gray[y * width + x] > threshold) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    return x1 < 0 ? null : [x0, y0, x1, y1];
  }

  /** For each of m target pixels, the source pixels (of n) it covers and their weights (summing to 1). */
  function areaWeights(n, m) {
    const step = n / m;
    const out = [];
    for (let t = 0; t < m; t++) {
      const a = t * step;
      const b = (t + 1) * step;
      const ws = [];
      for (let s = Math.floor(a); s < Math.min(n, Math.ceil(b)); s++) {
        const w = Math.min(b, s + 1) - Math.max(a, s);
        if (w > 0) ws.push([s, w / step]);
      }
      out.push(ws);
    }
    return out;
  }

  /** The crop [x0, x0+cw) × [y0, y0+ch) of a width-wide image, area-averaged to tw × th. */
  function resampleArea(gray, width, x0, y0, cw, ch, tw, th) {
    const wx = areaWeights(cw, tw);
    const wy = areaWeights(ch, th);
    const rows = new Float32Array(ch * tw);
    for (let y = 0; y < ch; y++) {
      const base = (y0 + y) * width + x0;
      for (let t = 0; t < tw; t++) {
        let v = 0;
        for (const [s, w] of wx[t]) v += w * gray[base + s];
        rows[y * tw + t] = v;
      }
    }
    const out = new Float32Array(tw * th);
    for (let t = 0; t < th; t++) {
      for (let x = 0; x < tw; x++) {
        let v = 0;
        for (const [s, w] of wy[t]) v += w * rows[s * tw + x];
        out[t * tw + x] = v;
      }
    }
    return out;
  }

  /** Centre of mass (x, y) of a w × h image, in pixel units from its top-left corner. */
  function centerOfMass(img, w, h) {
    let m = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = img[y * w + x];
        m += v;
        sx += v * (x + 0.5);
        sy += v * (y + 0.5);
      }
    }
    return m > 0 ? [sx / m, sy / m] : [w / 2, h / 2];
  }

  /**
   * A drawing as MNIST shows digits: `gray` is the drawing, width × height values in [0, 1] (ink 1 on
   * background 0). Returns 28×28 = 784 values in [0, 1], or null when nothing is drawn.
   */
  function toMnist(gray, width, height) {
    const bb = boundingBox(gray, width, height, INK);
    if (bb === null) return null;
    const cw = bb[2] - bb[0] + 1;
    const ch = bb[3] - bb[1] + 1;
    const scale = BOX / Math.max(cw, ch);
    const tw = Math.min(BOX, Math.max(1, Math.round(cw * scale)));
    const th = Math.min(BOX, Math.max(1, Math.round(ch * scale)));
    const small = resampleArea(gray, width, bb[0], bb[1], cw, ch, tw, th);
    const [cx, cy] = centerOfMass(small, tw, th);
    const ox = Math.min(SIZE - tw, Math.max(0, Math.round(SIZE / 2 - cx)));
    const oy = Math.min(SIZE - th, Math.max(0, Math.round(SIZE / 2 - cy)));
    const out = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) out[(oy + y) * SIZE + ox + x] = Math.min(1, Math.max(0, small[y * tw + x]));
    }
    return out;
  }

  /** Float32 values from base64 (little-endian bytes, as the exporter writes them). */
  function decodeFloats(base64) {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  function softmax(v) {
    const max = Math.max.apply(null, v);
    const e = v.map((x) => Math.exp(x - max));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  }

  function argMax(v) {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  }

  function el(doc, tag, attrs, text) {
    const e = doc.createElement(tag);
    for (const k of Object.keys(attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function loadScript(doc, src) {
    return new Promise((resolve, reject) => {
      const s = doc.createElement("script");
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => reject(new Error("could not load " + src));
      doc.head.appendChild(s);
    });
  }

  /** Over http(s): tf.loadLayersModel on model.json (which fetches its weights file). From file://, where
   * fetch is refused, the same model.json and weights come in a script (model.js) the builder wrote. */
  async function loadModel(tf, doc, base, entry) {
    const folder = base + "models/" + encodeURIComponent(entry.id) + "/";
    if (/^https?:$/.test(doc.location.protocol)) return tf.loadLayersModel(folder + "model.json");
    await loadScript(doc, folder + "model.js");
    const stored = (window.TRANSFER_LAB_PLAYGROUND_MODELS || {})[entry.id];
    if (!stored) throw new Error(folder + "model.js did not define model " + entry.id);
    const weightData = decodeFloats(stored.weights).buffer;
    const json = stored.modelJson;
    return tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
    );
  }

  /** Draws 28×28 values in [0, 1] (white on black) onto a canvas of any size, pixelated. */
  function paintDigit(doc, canvas, pixels) {
    const small = doc.createElement("canvas");
    small.width = SIZE;
    small.height = SIZE;
    const sctx = small.getContext("2d");
    const img = sctx.createImageData(SIZE, SIZE);
    for (let i = 0; i < SIZE * SIZE; i++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
      img.data[4 * i] = v;
      img.data[4 * i + 1] = v;
      img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  /** Wires the page: `opts.manifest` (what the exporter wrote), `opts.base` (folder of the assets,
   * "playground/"); `?backend=cpu` (or webgl) in the URL picks the tfjs backend. */
  async function start(opts) {
    const doc = document;
    const tf = window.tf;
    const m = opts.manifest;
    const root = doc.getElementById("playground");
    const status = doc.getElementById("status");
    const setStatus = (text) => (status.textContent = text);
    try {
      const wanted = new URLSearchParams(doc.location.search).get("backend");
      if (wanted) await tf.setBackend(wanted);
      await tf.ready();
      setStatus("loading " + m.models.length + " model(s)…");
      const models = [];
      for (const entry of m.models) models.push({ entry, model: await loadModel(tf, doc, opts.base, entry) });
      const examples = decodeFloats(m.examples.pixels);
      const n = m.classNames.length;

      // One panel per model: its name, its predicted class, and a bar per class.
      const panels = doc.getElementById("models");
      for (const { entry } of models) {
        const right = m.examples.predictions[entry.id].filter((p, i) => p === m.examples.labels[i]).length;
        const panel = el(doc, "div", { class: "model", "data-model-id": entry.id });
        panel.appendChild(el(doc, "h3", {}, entry.name));
        panel.appendChild(
          el(
            doc,
            "div",
            { class: "model-meta" },
            entry.params.toLocaleString("en-US") +
              " parameters; " +
              right +
              " of " +
              m.examples.count +
              " task-B images below right",
          ),
        );
        panel.appendChild(el(doc, "div", { class: "predicted", "data-label": "" }, "—"));
        const bars = el(doc, "div", { class: "bars" });
        for (let c = 0; c < n; c++) {
          const row = el(doc, "div", { class: "bar-row", "data-class": String(c), "data-p": "0" });
          row.appendChild(el(doc, "span", { class: "cls" }, m.classNames[c]));
          const track = el(doc, "span", { class: "track" });
          track.appendChild(el(doc, "span", { class: "bar" }));
          row.appendChild(track);
          row.appendChild(el(doc, "span", { class: "pct" }, "–"));
          bars.appendChild(row);
        }
        panel.appendChild(bars);
        panels.appendChild(panel);
      }

      const draw = doc.getElementById("draw");
      const ctx = draw.getContext("2d");
      const seen = doc.getElementById("input28");
      const info = doc.getElementById("input-info");
      let mode = "empty"; // "draw" | "example" | "empty"

      function clearCanvas() {
        ctx.fillStyle = "#000";
        ctx.fillRect(0, 0, draw.width, draw.height);
      }

      function show(input, truth, infoText) {
        info.textContent = infoText;
        root.dataset.input = mode;
        if (input === null) {
          paintDigit(doc, seen, new Float32Array(SIZE * SIZE));
          for (const p of panels.querySelectorAll(".model")) {
            p.querySelector(".predicted").textContent = "—";
            p.querySelector(".predicted").dataset.label = "";
            p.classList.remove("right", "wrong");
            for (const row of p.querySelectorAll(".bar-row")) {
              row.dataset.p = "0";
              row.classList.remove("top");
              row.querySelector(".bar").style.width = "0%";
              row.querySelector(".pct").textContent = "–";
            }
          }
          return;
        }
        paintDigit(doc, seen, input);
        for (const { entry, model } of models) {
          let probs = tf.tidy(() => {
            const y = model.predict(tf.tensor(input, [1].concat(entry.inputShape)));
            return Array.from(y.dataSync());
          });
          if (entry.output === "logits") probs = softmax(probs);
          const top = argMax(probs);
          const panel = panels.querySelector('.model[data-model-id="' + entry.id + '"]');
          const predicted = panel.querySelector(".predicted");
          predicted.dataset.label = String(top);
          predicted.textContent =
            "predicted " +
            m.classNames[top] +
            " (" +
            (100 * probs[top]).toFixed(1) +
            " %)" +
            (truth === null ? "" : top === truth ? " ✓" : " ✗");
          panel.classList.toggle("right", truth !== null && top === truth);
          panel.classList.toggle("wrong", truth !== null && top !== truth);
          panel.querySelectorAll(".bar-row").forEach((row, c) => {
            row.dataset.p = String(probs[c]);
            row.classList.toggle("top", c === top);
            row.querySelector(".bar").style.width = (100 * probs[c]).toFixed(1) + "%";
            row.querySelector(".pct").textContent = (100 * probs[c]).toFixed(1) + " %";
          });
        }
        root.dataset.predictions = String(Number(root.dataset.predictions || "0") + 1);
      }

      let pending = false;
      function predictDrawing() {
        pending = false;
        const img = ctx.getImageData(0, 0, draw.width, draw.height).data;
        const gray = new Float32Array(draw.width * draw.height);
        for (let i = 0; i < gray.length; i++) gray[i] = img[4 * i] / 255;
        const input = toMnist(gray, draw.width, draw.height);
        show(input, null, input === null ? "Draw a digit above." : "Your drawing, as the models see it (28×28).");
      }
      function schedule() {
        if (pending) return;
        pending = true;
        requestAnimationFrame(predictDrawing);
      }

      // Drawing with pointer events (mouse, touch and pen alike).
      let last = null;
      const pos = (e) => {
        const r = draw.getBoundingClientRect();
        return [((e.clientX - r.left) * draw.width) / r.width, ((e.clientY - r.top) * draw.height) / r.height];
      };
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      draw.addEventListener("pointerdown", (e) => {
        e.preventDefault();
        if (draw.setPointerCapture) draw.setPointerCapture(e.pointerId);
        if (mode !== "draw") clearCanvas();
        mode = "draw";
        last = pos(e);
        ctx.fillStyle = "#fff";
        ctx.beginPath();
        ctx.arc(last[0], last[1], draw.width / 28, 0, 2 * Math.PI);
        ctx.fill();
        schedule();
      });
      draw.addEventListener("pointermove", (e) => {
        if (last === null) return;
        e.preventDefault();
        const p = pos(e);
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = (2 * draw.width) / 28;
        ctx.beginPath();
        ctx.moveTo(last[0], last[1]);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
        last = p;
        schedule();
      });
      const end = () => {
        if (last === null) return;
        last = null;
        schedule();
      };
      draw.addEventListener("pointerup", end);
      draw.addEventListener("pointercancel", end);
      doc.getElementById("clear").addEventListener("click", () => {
        clearCanvas();
        mode = "empty";
        for (const b of doc.querySelectorAll(".example.picked")) b.classList.remove("picked");
        show(null, null, "Draw a digit above, or pick a test image.");
      });

      // The shifted test images, as buttons.
      const strip = doc.getElementById("examples");
      for (let i = 0; i < m.examples.count; i++) {
        const label = m.examples.labels[i];
        const b = el(doc, "button", {
          class: "example",
          type: "button",
          "data-index": String(i),
          "data-label": String(label),
          title: "test image " + (i + 1) + " of " + m.examples.name + ", label " + m.classNames[label],
        });
        const c = el(doc, "canvas", { width: String(SIZE), height: String(SIZE) });
        paintDigit(doc, c, examples.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE));
        b.appendChild(c);
        b.appendChild(el(doc, "span", {}, m.classNames[label]));
        b.addEventListener("click", () => {
          const input = examples.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
          for (const p of doc.querySelectorAll(".example.picked")) p.classList.remove("picked");
          b.classList.add("picked");
          mode = "example";
          paintDigit(doc, draw, input);
          root.dataset.example = String(i);
          show(
            input,
            label,
            "Test image " + (i + 1) + " of " + m.examples.name + ": true label " + m.classNames[label] + ".",
          );
        });
        strip.appendChild(b);
      }

      clearCanvas();
      show(null, null, "Draw a digit above, or pick a test image.");
      root.dataset.backend = tf.getBackend();
      root.dataset.state = "ready";
      setStatus(
        "TensorFlow.js " +
          tf.version.tfjs +
          " in this browser (" +
          tf.getBackend() +
          " backend); " +
          models.length +
          " model(s) loaded from " +
          (/^https?:$/.test(doc.location.protocol) ? "model.json files" : "scripts (file://)") +
          ".",
      );
    } catch (e) {
      root.dataset.state = "error";
      setStatus("The playground could not start: " + (e && e.message ? e.message : String(e)));
      throw e;
    }
  }

  return { SIZE, BOX, boundingBox, areaWeights, resampleArea, centerOfMass, toMnist, decodeFloats, softmax, start };
});
