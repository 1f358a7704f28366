// Tables in lesson outputs: aligned text for logs and an HTML table for the notebook.
import { formatNumber } from "../core/format";
import { display, escapeHtml } from "./display";

export type TableCell = string | number | boolean | null | undefined;

export interface TableArgs {
  /** Significant digits for non-integer numbers (default 4). */
  digits?: number;
  /** Caption above the table. */
  caption?: string;
  /** 'html' (default) displays an HTML table; 'text' displays the aligned text version. */
  format?: "html" | "text";
}

function cellText(v: TableCell, digits: number): string {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? formatNumber(v, digits) : String(v);
}

/** A results table as {html, text}; rows are objects keyed by column, or arrays in column order.
 * Columns default to the first row's keys. */
export function formatTable(
  rows: (Record<string, TableCell> | TableCell[])[],
  columns?: string[],
  args: TableArgs = {},
): { html: string; text: string } {
  const cols = columns ?? (rows.length && !Array.isArray(rows[0]) ? Object.keys(rows[0]) : undefined);
  if (!cols) throw new Error("table: columns must be given when rows are arrays or there are no rows");
  const digits = args.digits ?? 4;
  const raw = rows.map((r) => cols.map((c, j) => (Array.isArray(r) ? r[j] : r[c])));
  const cells = raw.map((r) => r.map((v) => cellText(v, digits)));
  const numeric = cols.map((_, j) => raw.every((r) => typeof r[j] === "number" || r[j] == null));
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]));
  const lines = [
    cols.map(pad).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map(pad).join("  ")),
  ];
  const text = (args.caption ? args.caption + "\n" : "") + lines.join("\n");
  const align = (j: number) => `text-align:${numeric[j] ? "right" : "left"};padding:2px 10px`;
  const head = cols.map((c, j) => `<th style="${align(j)}">${escapeHtml(c)}</th>`).join("");
  const body = cells
    .map((r) => `<tr>${r.map((v, j) => `<td style="${align(j)}">${escapeHtml(v)}</td>`).join("")}</tr>`)
    .join("\n");
  const caption = args.caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(args.caption)}</caption>`
    : "";
  return {
    html: `<table class="transfer-lab-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`,
    text,
  };
}

/** Displays a results table: HTML, or the aligned text when args.format is 'text'. */
export function table(
  rows: (Record<string, TableCell> | TableCell[])[],
  columns?: string[],
  args: TableArgs = {},
): void {
  const { html, text } = formatTable(rows, columns, args);
  if (args.format === "text") display().text(text);
  else display().html(html);
}
