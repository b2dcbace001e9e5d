/**
 * The report's index.html: self-contained (no script, no network), every string escaped. The
 * overview groups the grid as the seed did (optimizer → batch norm → foreground, a column per
 * training loss), then the seed's observations checked on the runs, then every run with its
 * verdict, then the figures (files beside the page).
 */
import { lossTitle } from '../experiment/losses.js';
import type { Report, ReportCell } from './render.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

const fmt = (v: number | null | undefined, digits = 4) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function verdictText(cell: ReportCell): string {
  return Object.entries(cell.verdicts).map(([v, n]) => `${n}/${cell.runs} ${v}`).join(', ');
}

export function reportHtml(report: Report, title: string): string {
  const e = escapeHtml;
  const losses = [...new Set(report.cells.map((c) => c.trainLoss))];
  const rowsOf = new Map<string, ReportCell[]>();
  for (const cell of report.cells) {
    const key = `${cell.optimizer.toUpperCase()}, Batch Norm: ${cell.batchNorm ? 'True' : 'False'}, ${Math.round(cell.foreground * 100)}% fg`;
    rowsOf.set(key, [...(rowsOf.get(key) ?? []), cell]);
  }
  const overview = [...rowsOf.entries()].map(([label, cells]) => `<tr><th>${e(label)}</th>${losses.map((loss) => {
    const cell = cells.find((c) => c.trainLoss === loss);
    if (!cell) return '<td></td>';
    const cls = cell.verdicts.converged === cell.runs ? 'ok' : (cell.verdicts.stuck || cell.verdicts.diverged) ? 'bad' : 'meh';
    return `<td class="${cls}">${fmt(cell.meanAccuracy)} ± ${fmt(cell.sdAccuracy)}<br><small>${e(verdictText(cell))}</small></td>`;
  }).join('')}</tr>`).join('\n');
  const runRows = report.runs.map((r) => `<tr class="${r.verdict === 'converged' ? 'ok' : r.verdict === 'not converged' ? 'meh' : 'bad'}">`
    + `<td><a href="#${e(r.figure)}">${e(r.id)}</a></td><td>${e(r.verdict)}${r.predictedClass != null ? ` (predicts ${r.predictedClass === 1 ? 'foreground' : 'background'} everywhere)` : ''}</td>`
    + `<td>${r.convergedAt ?? '–'}</td><td>${fmt(r.finalAccuracy)}</td><td>${r.steps}</td>`
    + `<td>${e(Object.entries(r.finalLosses).map(([k, v]) => `${k} ${fmt(v as number)}`).join(', '))}</td></tr>`).join('\n');
  const statusClass = { reproduced: 'ok', 'not reproduced': 'bad', 'not covered': 'meh' } as const;
  const observations = report.observations.map((o) => `<tr class="${statusClass[o.status]}"><td>${o.id}</td>`
    + `<td><b>${e(o.title)}</b><br><q>${e(o.seedWords)}</q></td><td>${e(o.criterion)}</td><td>${e(o.status)}</td><td>${e(o.summary)}</td></tr>`).join('\n');
  const figures = report.figures.map((f) => `<figure id="${e(f.key)}"><img src="figures/${encodeURIComponent(f.key)}.svg" alt="${e(f.title.join(' / '))}"><figcaption>${e(f.title.join(' / '))} — <a href="figures/${encodeURIComponent(f.key)}.png">PNG</a></figcaption></figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(title)}</title>
<style>
body { font-family: 'DejaVu Sans', system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
td.ok, tr.ok td { background: #e8f5e9; } td.bad, tr.bad td { background: #ffebee; } td.meh, tr.meh td { background: #fff8e1; }
figure { margin: 2em 0; } img { max-width: 100%; }
</style></head>
<body>
<h1>${e(title)}</h1>
<p>Final validation accuracy, mean ± standard deviation over runs, and each cell's verdicts:
<b>converged</b> (accuracy at least half-way from always predicting the majority class to 1),
<b>stuck</b> (predicts one class everywhere: accuracy equals that class's fraction),
<b>diverged</b> (a loss became NaN or ∞), or <b>not converged</b>.</p>
<h2>Overview</h2>
<table><tr><th></th>${losses.map((l) => `<th>trained with ${e(lossTitle(l))}</th>`).join('')}</tr>
${overview}
</table>
<h2>The seed's observations</h2>
<p>Each observation of the seed study, checked on this sweep's runs in the seed's setting:
<b>reproduced</b>, <b>not reproduced</b> (the numbers say where), or <b>not covered</b> (the
sweep lacks cells the check needs). Counts are over runs (seeds).</p>
<table><tr><th>#</th><th>observation (the seed's words)</th><th>criterion</th><th>status</th><th>numbers</th></tr>
${observations}
</table>
<h2>Runs</h2>
<table><tr><th>run</th><th>verdict</th><th>converged at step</th><th>final accuracy</th><th>steps</th><th>final losses</th></tr>
${runRows}
</table>
<h2>Figures</h2>
<p>Per optimizer, batch norm, foreground and run; columns: the training loss. Top: global gradient
norm of every logged loss (moving average over 201 steps). Bottom: every logged loss (moving
average over 11) and validation accuracy (dashed, right axis).</p>
${figures}
</body></html>
`;
}
