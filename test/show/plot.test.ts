// Plot specs (traces, names, log axes, error bars, panels), the once-per-session plotly embed,
// script-safe escaping of embedded JSON, and results tables.
import { describe, expect, it } from "vitest";
import { takeRecorded } from "../../src/show/display";
import { barPlot, heatmap, linePlot, multiPanel, scatterPlot } from "../../src/show/plot";
import { formatTable, table } from "../../src/show/table";
import {
  embedPlotly,
  plotHtml,
  plotlyBundle,
  plotlyBundleHtml,
  plotlyEmbedded,
  scriptSafeJson,
  scriptSafeSource,
  showPlot,
} from "../../src/show/plotly";

const BUNDLE_MARK = "embedded once per kernel session by transfer-lab";

describe("spec builders", () => {
  it("linePlot: one trace per series, default x 1..n, names, log axes when asked", () => {
    const spec = linePlot({
      series: [
        { name: "train", y: [1, 0.5, 0.25] },
        { name: "val", x: [1, 2, 3], y: new Float32Array([1.2, 0.7, 0.4]) },
      ],
      title: "loss",
      xTitle: "epoch",
      yTitle: "mse",
      logY: true,
    });
    expect(spec.data.map((t) => t.name)).toEqual(["train", "val"]);
    expect(spec.data[0].x).toEqual([1, 2, 3]);
    expect(Array.isArray(spec.data[1].y)).toBe(true); // typed arrays become JSON arrays
    expect((spec.layout.yaxis as { type?: string }).type).toBe("log");
    expect((spec.layout.xaxis as { type?: string }).type).toBeUndefined();
    expect((spec.layout.xaxis as { title: { text: string } }).title.text).toBe("epoch");
    expect(spec.data[0].line).not.toEqual(spec.data[1].line); // distinct colours
    expect((spec.layout.xaxis as { dtick?: number }).dtick).toBe(1); // integer epochs: one tick each
  });

  it("linePlot: logX and error bars (mean ± std over seeds); NaN becomes a gap", () => {
    const mean = [0.6, 0.8, 0.9];
    const std = [0.1, 0.1, 0];
    const spec = linePlot({
      series: [{ name: "pretrained", x: [1, 10, 100], y: [mean[0], NaN, mean[2]], error: std }],
      logX: true,
    });
    expect((spec.layout.xaxis as { type?: string }).type).toBe("log");
    expect(spec.data[0].error_y).toMatchObject({ type: "data", visible: true, array: std });
    expect(spec.data[0].y).toEqual([0.6, null, 0.9]);
  });

  it("linePlot: errors name the parameter, the value and the remedy", () => {
    expect(() => linePlot({ series: [] })).toThrow(/series must hold at least one series/);
    expect(() => linePlot({ series: [{ name: "a", x: [1, 2], y: [1] }] })).toThrow(
      /series 'a' has 2 x values but 1 y values/,
    );
    expect(() => linePlot({ series: [{ name: "a", y: [1, 0] }], logY: true })).toThrow(
      /logY needs y > 0, series 'a' has 0 at index 1/,
    );
    expect(() => linePlot({ series: [{ name: "a", y: [1, 2], error: [1] }] })).toThrow(/1 error values but 2 y values/);
  });

  it("scatterPlot: one trace per group in sorted order, named through groupNames", () => {
    const spec = scatterPlot({
      x: [0, 1, 2, 3],
      y: [3, 2, 1, 0],
      groups: new Int32Array([2, 0, 2, 1]),
      groupNames: ["zero", "one", "two"],
    });
    expect(spec.data.map((t) => t.name)).toEqual(["zero", "one", "two"]);
    expect(spec.data[2].x).toEqual([0, 2]);
    expect(spec.data.every((t) => t.mode === "markers")).toBe(true);
    expect(() => scatterPlot({ x: [0, 1], y: [0] })).toThrow(/x has 2 values but y has 1/);
  });

  it("barPlot: grouped bars per category with error bars", () => {
    const spec = barPlot({
      categories: [1, 10, 100],
      series: [
        { name: "scratch", y: [0.3, 0.6, 0.8], error: [0.05, 0.02, 0.01] },
        { name: "pretrained", y: [0.5, 0.7, 0.85] },
      ],
    });
    expect(spec.layout.barmode).toBe("group");
    expect(spec.data[0]).toMatchObject({ type: "bar", x: ["1", "10", "100"], error_y: { array: [0.05, 0.02, 0.01] } });
    expect(spec.data[1].error_y).toBeUndefined();
    expect(() => barPlot({ categories: ["a"], series: [{ name: "s", y: [1, 2] }] })).toThrow(
      /series 's' has 2 y values, expected 1/,
    );
  });

  it("heatmap: matrix order, cell annotations, shape checks", () => {
    const spec = heatmap({
      z: [
        [5, 1],
        [0, 4.56789],
      ],
      x: ["0", "1"],
      y: ["0", "1"],
      xTitle: "predicted",
      yTitle: "true",
    });
    const t = spec.data[0];
    expect(t.type).toBe("heatmap");
    expect(t.text).toEqual([
      ["5", "1"],
      ["0", "4.57"],
    ]);
    expect(t.texttemplate).toBe("%{text}");
    expect((spec.layout.yaxis as { autorange?: string }).autorange).toBe("reversed");
    expect(() => heatmap({ z: [[1, 2], [3]] })).toThrow(/z row 1 has 1 values, row 0 has 2/);
  });

  it("multiPanel: one axis pair per panel, shared colours and legend entries by series name", () => {
    const a = linePlot({
      title: "mild",
      series: [
        { name: "pretrained", y: [1, 2] },
        { name: "scratch", y: [1, 1] },
      ],
    });
    const b = linePlot({
      title: "inverted",
      series: [
        { name: "scratch", y: [2, 2] },
        { name: "pretrained", y: [0, 1] },
      ],
    });
    const spec = multiPanel({ panels: [a, b], title: "shift" });
    expect(spec.data.map((t) => [t.xaxis, t.yaxis])).toEqual([
      ["x", "y"],
      ["x", "y"],
      ["x2", "y2"],
      ["x2", "y2"],
    ]);
    expect(spec.layout.xaxis2).toMatchObject({ anchor: "y2" });
    const d0 = (spec.layout.xaxis as { domain: number[] }).domain,
      d1 = (spec.layout.xaxis2 as { domain: number[] }).domain;
    expect(d0[1]).toBeLessThan(d1[0]);
    const pre = spec.data.filter((t) => t.name === "pretrained");
    expect(pre[0].line).toEqual(pre[1].line);
    expect(pre.map((t) => t.showlegend)).toEqual([true, false]);
    expect((spec.layout.annotations as { text: string }[]).map((x) => x.text)).toEqual([
      "<b>mild</b>",
      "<b>inverted</b>",
    ]);
  });
});

describe("HTML and the plotly embed", () => {
  it("embeds plotly exactly once across two plots, and the bundle hides AMD define", () => {
    takeRecorded();
    expect(plotlyEmbedded()).toBe(false);
    showPlot(linePlot({ series: [{ name: "a", y: [1, 2, 3] }] }));
    showPlot(barPlot({ categories: ["x"], series: [{ name: "b", y: [1] }] }));
    const out = takeRecorded();
    expect(out).toHaveLength(2);
    expect(out.every((o) => o.mime === "text/html")).toBe(true);
    const html = out.map((o) => o.data as string);
    expect(html.filter((h) => h.includes(BUNDLE_MARK))).toHaveLength(1);
    expect(html[0]).toContain(BUNDLE_MARK);
    expect(html[0].length).toBeGreaterThan(plotlyBundle().text.length);
    expect(html[1].length).toBeLessThan(10_000);
    const ids = html.map((h) => /<div id="(tl-plot-[\w-]+)"/.exec(h)?.[1]);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBeDefined();
    expect(ids[0]).not.toBe(ids[1]);
    expect(html[1]).toContain(`getElementById(id)`);
    expect(html[1]).toContain(`var id="${ids[1]}"`);
    expect(html[1]).toContain("newPlot");
    expect(plotlyBundleHtml()).toMatch(/var d=window\.define;window\.define=undefined;try\{/);
    expect(plotlyEmbedded()).toBe(true);
    expect(embedPlotly()).toBe(false);
    expect(takeRecorded()).toHaveLength(0);
    expect(embedPlotly(true)).toBe(true);
    expect(takeRecorded()[0].data as string).toContain(BUNDLE_MARK);
  });

  it("the embedded bundle contains no '</script' that would end its element", () => {
    const html = plotlyBundleHtml();
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    expect(html.endsWith("</script>")).toBe(true);
  });

  it("escapes </script> and <!-- inside embedded JSON and JS", () => {
    const evil = "</script><script>alert(1)</script><!--";
    const spec = linePlot({ series: [{ name: evil, y: [1] }], title: evil });
    const html = plotHtml(spec, "p1");
    expect(html.match(/<\/script>/gi)).toHaveLength(1); // only the element's own end tag
    expect(html).not.toContain("<!--");
    const json = scriptSafeJson({ s: evil });
    expect(JSON.parse(json)).toEqual({ s: evil }); // same value once parsed
    expect(scriptSafeSource('var a="</SCRIPT>"; var b="<!--";')).toBe('var a="<\\/SCRIPT>"; var b="<\\!--";');
    expect(() => plotHtml(spec, 'x" onload="')).toThrow(/id must be letters/);
  });
});

describe("table", () => {
  it("displays an HTML table; formatTable gives the aligned text", () => {
    takeRecorded();
    table(
      [
        { method: "scratch", acc: 0.912345, params: 1200 },
        { method: "<lora>", acc: 0.95, params: 80 },
      ],
      undefined,
      { caption: "results" },
    );
    const [out] = takeRecorded();
    expect(out.mime).toBe("text/html");
    expect(out.data).toContain('<th style="text-align:left;padding:2px 10px">method</th>');
    expect(out.data).toContain("&lt;lora&gt;");
    expect(out.data).toContain("0.9123");
    const { text } = formatTable(
      [
        { method: "scratch", acc: 0.912345, params: 1200 },
        { method: "<lora>", acc: 0.95, params: 80 },
      ],
      undefined,
      { caption: "results" },
    );
    expect(text.split("\n")).toEqual([
      "results",
      "method      acc  params", // numeric columns right-aligned, headers too
      "-------  ------  ------",
      "scratch  0.9123    1200",
      "<lora>     0.95      80",
    ]);
    table([["a", 1]], ["name", "n"], { format: "text" });
    expect(takeRecorded()[0].mime).toBe("text/plain");
    expect(() => table([["a", 1]])).toThrow(/columns must be given/);
  });
});
