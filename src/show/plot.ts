// Plotly chart specs for the lessons: pure builders (line, scatter, bar, heatmap, multi-panel) that
// return {data, layout} and draw nothing. plotly.ts turns a spec into HTML and shows it.
import { formatNumber } from "../core/format";

/** A value plotly accepts in x/y/text arrays. */
export type Datum = number | string | null;

/** One plotly trace: the fields the builders set are named; any other plotly field passes through. */
export interface PlotTrace {
  type?: string;
  name?: string;
  x?: Datum[];
  y?: Datum[];
  z?: Datum[][];
  mode?: string;
  xaxis?: string;
  yaxis?: string;
  [key: string]: unknown;
}

/** A plotly layout object (title, axes, legend, annotations, ...), passed to plotly as is. */
export type PlotLayout = Record<string, unknown>;

/** Everything plotly needs to draw one chart. */
export interface PlotSpec {
  data: PlotTrace[];
  layout: PlotLayout;
  /** plotly config (merged over DEFAULT_PLOT_CONFIG). */
  config?: Record<string, unknown>;
}

/** One named curve or bar group; `error` is drawn as ± error bars (e.g. std over seeds). */
export interface Series {
  name: string;
  /** x values; default 1..n (epochs, steps). */
  x?: ArrayLike<number | string>;
  y: ArrayLike<number>;
  /** Half-height of the error bar at each point (same length as y). */
  error?: ArrayLike<number>;
}

/** Titles shared by every builder. */
export interface AxesArgs {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Chart height in pixels (default DEFAULT_PLOT_HEIGHT). */
  height?: number;
}

export interface LinePlotArgs extends AxesArgs {
  series: Series[];
  /** Logarithmic x axis (e.g. labels per class); every x must be > 0. */
  logX?: boolean;
  /** Logarithmic y axis (e.g. loss); every y must be > 0. */
  logY?: boolean;
  /** Draw point markers; default: when no series has more than 30 points. */
  markers?: boolean;
}

export interface ScatterPlotArgs extends AxesArgs {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Colour group of each point (e.g. class label); one trace per group, sorted. */
  groups?: ArrayLike<number | string>;
  /** Legend name for a group value (default: the value itself). */
  groupNames?: Record<string, string> | string[];
  /** Marker size in pixels (default 5). */
  markerSize?: number;
}

export interface BarPlotArgs extends AxesArgs {
  /** One bar per category in every series. */
  categories: (string | number)[];
  /** Each series' y has one value per category. */
  series: Series[];
  /** 'group' puts series side by side (default), 'stack' on top of each other. */
  barmode?: "group" | "stack";
  logY?: boolean;
}

export interface HeatmapArgs extends AxesArgs {
  /** z[row][col], e.g. a confusion matrix z[true][predicted]. */
  z: ArrayLike<number>[];
  /** Column labels (default 0..cols-1). */
  x?: (string | number)[];
  /** Row labels (default 0..rows-1). */
  y?: (string | number)[];
  /** Write each value in its cell; default: when there are at most 400 cells. */
  annotate?: boolean;
  /** Significant digits of the annotations (default 3; integers are written whole). */
  digits?: number;
  /** plotly colour scale name (default 'Blues'). */
  colorscale?: string;
  /** Row 0 at the top, as a matrix is read (default true). */
  matrixOrder?: boolean;
}

export interface MultiPanelArgs {
  /** The panels, each a spec from a builder; its layout.title becomes the panel title. */
  panels: PlotSpec[];
  /** Panels per row (default: all in one row up to 3, else 3). */
  cols?: number;
  title?: string;
  /** Height of one row of panels in pixels (default 340). */
  rowHeight?: number;
}

export const DEFAULT_PLOT_HEIGHT = 380;
export const DEFAULT_PANEL_ROW_HEIGHT = 340;
export const DEFAULT_PLOT_CONFIG: Record<string, unknown> = { responsive: true, displaylogo: false };
/** plotly's own default colour cycle (d3 category10), so colours match the legend order. */
export const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
const AUTO_MARKER_MAX_POINTS = 30;
const AUTO_ANNOTATE_MAX_CELLS = 400;

function baseLayout(a: AxesArgs, xType?: string, yType?: string): PlotLayout {
  return {
    title: { text: a.title ?? "" },
    xaxis: { title: { text: a.xTitle ?? "" }, ...(xType ? { type: xType } : {}) },
    yaxis: { title: { text: a.yTitle ?? "" }, ...(yType ? { type: yType } : {}) },
    height: a.height ?? DEFAULT_PLOT_HEIGHT,
    autosize: true,
    margin: { l: 60, r: 20, t: a.title ? 50 : 20, b: 50 },
  };
}

function toList<T>(v: ArrayLike<T>): T[] {
  return Array.from(v);
}

/** NaN and ±Infinity become null (a gap), which JSON and plotly both understand. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function checkSeries(fn: string, s: Series, n?: number): void {
  if (n !== undefined && s.y.length !== n) {
    throw new Error(`${fn}: series '${s.name}' has ${s.y.length} y values, expected ${n} (one per category)`);
  }
  if (s.x && s.x.length !== s.y.length) {
    throw new Error(
      `${fn}: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values (give one x per y)`,
    );
  }
  if (s.error && s.error.length !== s.y.length) {
    throw new Error(
      `${fn}: series '${s.name}' has ${s.error.length} error values but ${s.y.length} y values (one std per point)`,
    );
  }
}

function checkPositive(fn: string, axis: string, name: string, values: ArrayLike<number | string>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && !(v > 0)) {
      throw new Error(
        `${fn}: log${axis} needs ${axis.toLowerCase()} > 0, series '${name}' has ${v} at index ${i} (drop the point or use a linear axis)`,
      );
    }
  }
}

function errorBars(s: Series, color: string): Record<string, unknown> {
  if (!s.error) return {};
  return {
    error_y: { type: "data", array: toList(s.error).map(finite), visible: true, color, thickness: 1.2, width: 4 },
  };
}

/** Line chart of named series, optional error bars and log axes. */
export function linePlot(args: LinePlotArgs): PlotSpec {
  if (!args.series || args.series.length === 0)
    throw new Error("linePlot: series must hold at least one series, got none");
  const markers = args.markers ?? args.series.every((s) => s.y.length <= AUTO_MARKER_MAX_POINTS);
  const data = args.series.map((s, i): PlotTrace => {
    checkSeries("linePlot", s);
    const x = s.x ? toList(s.x) : s.y.length ? toList(s.y).map((_, j) => j + 1) : [];
    if (args.logX) checkPositive("linePlot", "X", s.name, x);
    if (args.logY) checkPositive("linePlot", "Y", s.name, s.y);
    const color = PALETTE[i % PALETTE.length];
    return {
      type: "scatter",
      mode: markers ? "lines+markers" : "lines",
      name: s.name,
      x,
      y: toList(s.y).map(finite),
      line: { color, width: 2 },
      marker: { color, size: 6 },
      ...errorBars(s, color),
    };
  });
  const layout = baseLayout(args, args.logX ? "log" : undefined, args.logY ? "log" : undefined);
  // Few integer x values (epochs, layers): tick every integer instead of plotly's 1.5, 2.5, ...
  const xs = data.flatMap((t) => t.x ?? []);
  if (
    !args.logX &&
    xs.length &&
    xs.every((v) => Number.isInteger(v)) &&
    Math.max(...(xs as number[])) - Math.min(...(xs as number[])) <= 20
  ) {
    (layout.xaxis as Record<string, unknown>).dtick = 1;
  }
  return { data, layout };
}

/** Scatter of points coloured by group (e.g. a 2-D PCA projection coloured by class). */
export function scatterPlot(args: ScatterPlotArgs): PlotSpec {
  const n = args.x.length;
  if (args.y.length !== n) throw new Error(`scatterPlot: x has ${n} values but y has ${args.y.length} (one y per x)`);
  if (args.groups && args.groups.length !== n) {
    throw new Error(
      `scatterPlot: groups has ${args.groups.length} values but there are ${n} points (one group per point)`,
    );
  }
  const byGroup = new Map<string, { key: number | string; idx: number[] }>();
  for (let i = 0; i < n; i++) {
    const key = args.groups ? args.groups[i] : "points";
    const entry = byGroup.get(String(key)) ?? { key, idx: [] };
    entry.idx.push(i);
    byGroup.set(String(key), entry);
  }
  const groups = Array.from(byGroup.values()).sort((a, b) =>
    typeof a.key === "number" && typeof b.key === "number" ? a.key - b.key : String(a.key).localeCompare(String(b.key)),
  );
  const names = args.groupNames as Record<string, string> | undefined;
  const data = groups.map((g, i): PlotTrace => ({
    type: "scatter",
    mode: "markers",
    name: names?.[String(g.key)] ?? String(g.key),
    x: g.idx.map((j) => finite(args.x[j])),
    y: g.idx.map((j) => finite(args.y[j])),
    marker: { color: PALETTE[i % PALETTE.length], size: args.markerSize ?? 5, opacity: 0.75 },
  }));
  return { data, layout: { ...baseLayout(args), showlegend: args.groups !== undefined } };
}

/** Bar chart with one bar per category per series, grouped (or stacked), optional error bars. */
export function barPlot(args: BarPlotArgs): PlotSpec {
  if (!args.series || args.series.length === 0)
    throw new Error("barPlot: series must hold at least one series, got none");
  const cats = args.categories.map(String);
  const data = args.series.map((s, i): PlotTrace => {
    checkSeries("barPlot", s, cats.length);
    if (args.logY) checkPositive("barPlot", "Y", s.name, s.y);
    const color = PALETTE[i % PALETTE.length];
    return {
      type: "bar",
      name: s.name,
      x: cats,
      y: toList(s.y).map(finite),
      marker: { color },
      ...errorBars(s, "#333"),
    };
  });
  const layout = baseLayout(args, "category", args.logY ? "log" : undefined);
  return { data, layout: { ...layout, barmode: args.barmode ?? "group" } };
}

/** Heatmap with the value written in each cell (e.g. a confusion matrix). */
export function heatmap(args: HeatmapArgs): PlotSpec {
  const rows = args.z.length;
  const cols = rows ? args.z[0].length : 0;
  if (rows === 0 || cols === 0) throw new Error("heatmap: z must be a non-empty matrix z[row][col], got an empty one");
  args.z.forEach((r, i) => {
    if (r.length !== cols)
      throw new Error(`heatmap: z row ${i} has ${r.length} values, row 0 has ${cols} (rows must be equally long)`);
  });
  const x = (args.x ?? Array.from({ length: cols }, (_, i) => i)).map(String);
  const y = (args.y ?? Array.from({ length: rows }, (_, i) => i)).map(String);
  if (x.length !== cols) throw new Error(`heatmap: x has ${x.length} labels but z has ${cols} columns`);
  if (y.length !== rows) throw new Error(`heatmap: y has ${y.length} labels but z has ${rows} rows`);
  const z = args.z.map((r) => toList(r).map(finite));
  const annotate = args.annotate ?? rows * cols <= AUTO_ANNOTATE_MAX_CELLS;
  // plotly's 'Blues' runs dark -> light; reversed, large counts are dark as in a printed matrix.
  const trace: PlotTrace = {
    type: "heatmap",
    x,
    y,
    z,
    colorscale: args.colorscale ?? "Blues",
    reversescale: args.colorscale === undefined,
    hoverongaps: false,
  };
  if (annotate) {
    trace.text = args.z.map((r) => toList(r).map((v) => formatNumber(v, args.digits ?? 3)));
    trace.texttemplate = "%{text}";
  }
  const layout = baseLayout(args, "category", "category");
  if (args.matrixOrder ?? true) (layout.yaxis as Record<string, unknown>).autorange = "reversed";
  return { data: [trace], layout };
}

function axisSuffix(i: number): string {
  return i === 0 ? "" : String(i + 1);
}

function titleText(layout: PlotLayout): string {
  const t = layout.title as { text?: string } | string | undefined;
  return typeof t === "string" ? t : (t?.text ?? "");
}

function setTraceColor(t: PlotTrace, color: string): PlotTrace {
  if (t.type === "heatmap") return t;
  const out: PlotTrace = { ...t, marker: { ...(t.marker as object), color } };
  if (t.line) out.line = { ...(t.line as object), color };
  if (t.error_y && t.type !== "bar") out.error_y = { ...(t.error_y as object), color };
  return out;
}

/** Side-by-side panels (e.g. mild vs inverted shift) in one chart; a series name keeps one colour
 * and one legend entry across panels. */
export function multiPanel(args: MultiPanelArgs): PlotSpec {
  const n = args.panels.length;
  if (n === 0) throw new Error("multiPanel: panels must hold at least one spec, got none");
  const cols = args.cols ?? Math.min(n, 3);
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`multiPanel: cols must be a positive integer, got ${cols}`);
  const rows = Math.ceil(n / cols);
  const hGap = 0.08,
    vGap = rows > 1 ? 0.12 : 0;
  const w = (1 - (cols - 1) * hGap) / cols,
    h = (1 - (rows - 1) * vGap) / rows;
  const rowHeight = args.rowHeight ?? DEFAULT_PANEL_ROW_HEIGHT;
  const layout: PlotLayout = {
    title: { text: args.title ?? "" },
    height: rows * rowHeight + 60,
    autosize: true,
    margin: { l: 60, r: 20, t: 80, b: 50 },
    barmode: args.panels[0].layout.barmode,
  };
  const annotations: Record<string, unknown>[] = [];
  const colorOf = new Map<string, string>();
  const data: PlotTrace[] = [];
  args.panels.forEach((p, i) => {
    const r = Math.floor(i / cols),
      c = i % cols,
      s = axisSuffix(i);
    const x0 = c * (w + hGap),
      top = 1 - r * (h + vGap);
    layout[`xaxis${s}`] = { ...(p.layout.xaxis as object), domain: [x0, x0 + w], anchor: `y${s}` };
    layout[`yaxis${s}`] = { ...(p.layout.yaxis as object), domain: [top - h, top], anchor: `x${s}` };
    const title = titleText(p.layout);
    if (title) {
      annotations.push({
        text: `<b>${title}</b>`,
        x: x0 + w / 2,
        y: top,
        xref: "paper",
        yref: "paper",
        xanchor: "center",
        yanchor: "bottom",
        yshift: 6,
        showarrow: false,
      });
    }
    for (const t of p.data) {
      let trace: PlotTrace = { ...t, xaxis: `x${s}`, yaxis: `y${s}` };
      if (t.type === "heatmap") {
        trace.colorbar = { x: x0 + w + 0.005, xanchor: "left", y: top - h / 2, len: h, thickness: 10 };
      } else if (t.name !== undefined) {
        const first = !colorOf.has(t.name);
        if (first) colorOf.set(t.name, PALETTE[colorOf.size % PALETTE.length]);
        trace = { ...setTraceColor(trace, colorOf.get(t.name) as string), legendgroup: t.name, showlegend: first };
      }
      data.push(trace);
    }
  });
  layout.annotations = annotations;
  return { data, layout };
}
