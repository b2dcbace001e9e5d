/**
 * The report's index.html: self-contained (no script, no network), every string escaped. The
 * overview groups the grid as the seed did (optimizer → batch norm → foreground, a column per
 * training loss), then the seed's observations checked on the runs, then every run with its
 * verdict, then the figures (files beside the page).
 */
import { lossTitle } from '../experiment/losses.js';
import { describeComparison, PUZZLE_FROM_STEP, PUZZLE_NO_GAP } from './puzzle.js';
import { settingOf } from './ranking.js';
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
    const key = settingOf(cell);
    rowsOf.set(key, [...(rowsOf.get(key) ?? []), cell]);
  }
  const overview = [...rowsOf.entries()].map(([label, cells]) => `<tr><th>${e(label)}</th>${losses.map((loss) => {
    const cell = cells.find((c) => c.trainLoss === loss);
    if (!cell) return '<td></td>';
    const cls = cell.verdicts.converged === cell.runs ? 'ok' : (cell.verdicts.stuck || cell.verdicts.diverged) ? 'bad' : 'meh';
    return `<td class="${cls}">${fmt(cell.meanAccuracy)} ± ${fmt(cell.sdAccuracy)}<br><small>minority Dice ${fmt(cell.meanDiceMinority, 3)} ± ${fmt(cell.sdDiceMinority, 3)}`
      + `<br>${e(verdictText(cell))}</small></td>`;
  }).join('')}</tr>`).join('\n');
  const runRows = report.runs.map((r) => `<tr class="${r.verdict === 'converged' ? 'ok' : r.verdict === 'not converged' ? 'meh' : 'bad'}">`
    + `<td><a href="#${e(r.figure)}">${e(r.id)}</a></td><td>${e(r.verdict)}${r.predictedClass != null ? ` (predicts ${r.predictedClass === 1 ? 'foreground' : 'background'} everywhere)` : ''}</td>`
    + `<td>${r.convergedAt ?? '–'}</td><td>${fmt(r.finalAccuracy)}</td><td>${fmt(r.finalDice?.[0])}</td><td>${fmt(r.finalDice?.[1])}</td><td>${r.steps}</td>`
    + `<td>${e(Object.entries(r.finalLosses).map(([k, v]) => `${k} ${fmt(v as number)}`).join(', '))}</td></tr>`).join('\n');
  const observations = observationRows(report.observations);
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
<p>Final validation accuracy, mean ± standard deviation over runs (below it, the same of the
final Dice of the minority class), and each cell's verdicts:
<b>converged</b> (accuracy at least half-way from always predicting the majority class to 1),
<b>stuck</b> (predicts one class everywhere: accuracy equals that class's fraction),
<b>diverged</b> (a loss became NaN or ∞), or <b>not converged</b>.</p>
<h2>Overview</h2>
<table><tr><th></th>${losses.map((l) => `<th>trained with ${e(lossTitle(l))}</th>`).join('')}</tr>
${overview}
</table>
${rankingSection(report)}${predictionsSection(report)}<h2>The seed's observations</h2>
<p>Each observation of the seed study, checked on this sweep's runs in the seed's setting:
<b>reproduced</b>, <b>not reproduced</b> (the numbers say where), or <b>not covered</b> (the
sweep lacks cells the check needs). Counts are over runs (seeds).</p>
<table><tr><th>#</th><th>observation (the seed's words)</th><th>criterion</th><th>status</th><th>numbers</th></tr>
${observations}
</table>
${modelObservationsSection(report)}${puzzleSection(report)}<h2>Runs</h2>
<table><tr><th>run</th><th>verdict</th><th>converged at step</th><th>final accuracy</th><th>final Dice, background</th><th>final Dice, foreground</th><th>steps</th><th>final losses</th></tr>
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

/** The training losses ranked by the final Dice of the minority class, per setting with two or more of them. */
function rankingSection(report: Report): string {
  if (report.ranking.length === 0) return '';
  const e = escapeHtml;
  const rows = report.ranking.map((g) => `<tr><th>${e(g.setting)}</th><td>${g.losses.map((l, k) => `${k + 1}. <b>${e(lossTitle(l.trainLoss))}</b> `
    + `${fmt(l.meanDice, 3)} ± ${fmt(l.sdDice, 3)} <small>(${e(Object.entries(l.verdicts).map(([v, n]) => `${n}/${l.runs} ${v}`).join(', '))})</small>`).join('<br>')}</td></tr>`).join('\n');
  return `<h2>Which loss?</h2>
<p>Per setting, the training losses by the final validation Dice of the minority class (the
foreground up to 50 % fg, the mean over the foreground classes when there are several; the
background above 50 %), mean ± standard deviation over seeds, best first.</p>
<table><tr><th>setting</th><th>training losses, best first</th></tr>
${rows}
</table>
`;
}

const statusClass = { reproduced: 'ok', 'not reproduced': 'bad', 'not covered': 'meh' } as const;

function observationRows(checks: Report['observations']): string {
  const e = escapeHtml;
  return checks.map((o) => `<tr class="${statusClass[o.status]}"><td>${o.id}</td>`
    + `<td><b>${e(o.title)}</b><br><q>${e(o.seedWords)}</q></td><td>${e(o.criterion)}</td><td>${e(o.status)}</td><td>${e(o.summary)}</td></tr>`).join('\n');
}

/** The seed's observations on each U-Net model of the sweep that covers one: the same checks on its runs. */
function modelObservationsSection(report: Report): string {
  return report.modelObservations.map(({ model, checks }) => `<h2>The seed's observations on ${escapeHtml(model)}</h2>
<p>The same checks and thresholds on this model's runs, its cells named as the seed's
(<code>adam-bn0-95fg-dicefg</code>: Adam, no batch norm, 95 % foreground, trained with DICEFG).</p>
<table><tr><th>#</th><th>observation (the seed's words)</th><th>criterion</th><th>status</th><th>numbers</th></tr>
${observationRows(checks)}
</table>
`).join('');
}

/** Per setting of U-Net runs, a column per training loss: validation images with the final predictions (overlays/ID.png). */
function predictionsSection(report: Report): string {
  if (report.overlays.length === 0) return '';
  const e = escapeHtml;
  const settings = [...new Set(report.overlays.map((o) => o.setting))];
  const rows = settings.map((setting) => `<tr><th>${e(setting)}</th>${report.overlays.filter((o) => o.setting === setting).map((o) => `<td><b>${e(lossTitle(o.trainLoss))}</b> <small>(run ${o.seed})</small><br>`
    + `<img src="overlays/${encodeURIComponent(o.runId)}.png" alt="${e(`${o.runId}: validation images and predictions`)}"></td>`).join('')}</tr>`).join('\n');
  return `<h2>Predictions</h2>
<p>Per setting and training loss, the first validation images (a volume's middle slice) of the
lowest seed's run, each beside its final prediction: foreground found <span style="color:#28c846">■</span>,
missed <span style="color:#286eff">■</span>, background taken for foreground <span style="color:#e62828">■</span>.</p>
<table>
${rows}
</table>
`;
}

/**
 * The seed's puzzle, where the sweep covers it: the figure, then per training loss and
 * class-symmetric logged loss the gap at 5% vs 95% fg as drawn and inverted, and its verdict.
 */
function puzzleSection(report: Report): string {
  if (!report.puzzle) return '';
  const e = escapeHtml;
  const verdicts = { intensity: 'ok', fraction: 'bad', 'no gap': 'meh', other: 'meh' } as const;
  const rows = report.puzzle.analysis.comparisons.map((c) => `<tr class="${verdicts[c.verdict]}"><td>${e(lossTitle(c.trainLoss))}</td>`
    + `<td>${e(lossTitle(c.logged))}</td><td>×${c.asDrawn.toFixed(2)}</td><td>×${c.inverted.toFixed(2)}</td>`
    + `<td>${c.reversedInSeeds}/${c.seeds}</td><td>${e(c.verdict)}</td></tr>`).join('\n');
  return `<h2>The seed's puzzle: smaller gradient norms at 95% fg</h2>
<p>The hypothesis: the minority class sits at high intensities at 5% fg (x &gt; 0.95) and at low
ones at 95% fg (x &lt; 0.05), and a conv weight's gradient sums input intensities times errors.
Inverted inputs (x → 1 − x after labelling) swap that and nothing else. If the gap is the
intensities', inverting reverses it. Below: medians over seeds of each run's median gradient norm
from step ${PUZZLE_FROM_STEP} on, 5% fg over 95% fg; <b>intensity</b>: a gap (×${PUZZLE_NO_GAP} or more)
that reverses when inverted; <b>fraction</b>: one that stays; <b>no gap</b>: within ×${PUZZLE_NO_GAP}.</p>
<table><tr><th>trained with</th><th>gradient norm of</th><th>5% / 95% fg, as drawn</th><th>inverted</th><th>reversed in seeds</th><th>verdict</th></tr>
${rows}
</table>
<p><small>${report.puzzle.analysis.comparisons.map((c) => e(describeComparison(c))).join('<br>')}</small></p>
<figure id="puzzle"><img src="figures/puzzle.svg" alt="the puzzle's gradient norms"><figcaption>Gradient norms at 5% and 95% fg, inputs as drawn and inverted: mean over seeds, band from the lowest to the highest — <a href="figures/puzzle.png">PNG</a></figcaption></figure>
`;
}
