// The site's front page: one row per lesson with its one-line goal, a link to the executed page,
// and backend, scale and seconds of the run. Self-contained HTML (no scripts, no external assets).
import { escapeHtml } from "../../show/display";
import type { LessonInfo } from "./info";
import { formatSeconds } from "../../core/format";

export interface IndexPageArgs {
  /** Every lesson, executed or not, in order. */
  lessons: LessonInfo[];
  /** ISO time the site was built. */
  generatedAt: string;
  /** Page heading (default DEFAULT_SITE_TITLE). */
  title?: string;
}

export const DEFAULT_SITE_TITLE = "transfer-lab — executed lessons";

function status(l: LessonInfo): string {
  if (l.ok === null) return `<span class="skip">not run</span>`;
  return l.ok ? `<span class="ok">ok</span>` : `<span class="fail">failed</span>`;
}

function row(l: LessonInfo): string {
  const title = l.page ? `<a href="${escapeHtml(encodeURI(l.page))}">${escapeHtml(l.title)}</a>` : escapeHtml(l.title);
  return `<tr class="lesson" data-lesson="${escapeHtml(l.id)}">
  <td class="id">${escapeHtml(l.id)}</td>
  <td><div class="title">${title}</div><div class="goal">${escapeHtml(l.goal)}</div></td>
  <td>${escapeHtml(l.backend ?? "—")}</td>
  <td>${escapeHtml(l.scale ?? "—")}</td>
  <td class="num">${formatSeconds(l.seconds)}</td>
  <td>${status(l)}</td>
</tr>`;
}

/** The index.html text. */
export function renderIndex(args: IndexPageArgs): string {
  const title = args.title ?? DEFAULT_SITE_TITLE;
  const run = args.lessons.filter((l) => l.ok !== null);
  const total = run.reduce((a, l) => a + (l.seconds ?? 0), 0);
  const rows = args.lessons.map(row).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.5em 0.7em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f6f8; }
td.num { text-align: right; white-space: nowrap; }
td.id { font-weight: bold; color: #555; }
.title { font-weight: 600; }
.title a { color: #1f77b4; text-decoration: none; }
.goal { color: #444; margin-top: 0.2em; }
.ok { color: #2ca02c; font-weight: 600; }
.fail { color: #d62728; font-weight: 600; }
.skip { color: #999; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">TypeScript lessons on greedy layer-wise pretraining, feature extraction, fine-tuning, freezing and LoRA, executed with the <code>transfer-lab</code> kernel.
${run.length} of ${args.lessons.length} lessons executed, ${formatSeconds(total)} in all. Built ${escapeHtml(args.generatedAt)} by <code>npm run lessons</code>.</p>
<table>
<thead><tr><th>#</th><th>Lesson</th><th>Backend</th><th>Scale</th><th>Time</th><th>Status</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
