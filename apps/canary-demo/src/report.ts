import type { RunSummary } from './summary.js';
import type { Timeline, TimelineMarker, TimelineSample } from './timeline.js';

export interface RunResult {
  summary: RunSummary;
  timeline: Timeline;
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (value: number, digits = 1) => Number(value.toFixed(digits)).toString();

const colors = {
  share: '#2563eb',
  target: '#64748b',
  v1: '#16a34a',
  v2: '#dc2626',
  step: '#94a3b8',
  evidence: '#ea580c',
  kill: '#b91c1c',
  'router-kill': '#7c3aed',
  completed: '#16a34a',
} as const;

/** Error rate per arm over a window of samples, so a 1 % canary's few requests are readable;
 *  none where the arm got no request in the sample itself (the line ends where its traffic does). */
export function rollingErrorRate(samples: readonly TimelineSample[], arm: 'v1' | 'v2', window: number): Array<number | null> {
  return samples.map((sample, i) => {
    if (sample.counts[arm].requests === 0) return null;
    let requests = 0;
    let errors = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j += 1) {
      requests += samples[j]!.counts[arm].requests;
      errors += samples[j]!.counts[arm].errors;
    }
    return errors / requests;
  });
}

export function canaryShare(sample: TimelineSample): number | null {
  const total = sample.counts.v1.requests + sample.counts.v2.requests;
  return total === 0 ? null : sample.counts.v2.requests / total;
}

function polyline(points: Array<[number, number] | null>, color: string): string {
  const runs: string[][] = [[]];
  for (const p of points) {
    if (p === null) runs.push([]);
    else runs[runs.length - 1]!.push(`${fmt(p[0])},${fmt(p[1])}`);
  }
  return runs
    .filter((r) => r.length > 0)
    .map((r) => r.length === 1
      ? `<circle cx="${r[0]!.split(',')[0]}" cy="${r[0]!.split(',')[1]}" r="1.8" fill="${color}"/>`
      : `<polyline fill="none" stroke="${color}" stroke-width="2" points="${r.join(' ')}"/>`)
    .join('');
}

function niceMax(value: number): number {
  for (const step of [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1]) if (value <= step) return step;
  return Math.ceil(value);
}

export interface ChartOptions {
  width?: number;
  /** Samples per point of the error-rate lines. */
  errorWindow?: number;
}

/**
 * One run as an SVG: canary share of requests (and the plan's percentage) on top, error rate per
 * arm below, on one time axis in seconds since the plan started; steps, the first significant
 * evidence, the kill and the router receiving it as vertical lines.
 */
export function renderChart(timeline: Timeline, options: ChartOptions = {}): string {
  const width = options.width ?? 960;
  const window = options.errorWindow ?? 3;
  const left = 58;
  const right = 20;
  const plotWidth = width - left - right;
  const top = { y: 56, h: 170 };
  const bottom = { y: 266, h: 120 };
  const height = bottom.y + bottom.h + 62;
  const samples = timeline.samples;
  const t0 = timeline.planStartedAt;
  const tMin = Math.min(timeline.startedAt, samples[0]?.from ?? t0) - t0;
  const tMax = Math.max(timeline.endedAt, samples[samples.length - 1]?.t ?? t0) - t0;
  const span = Math.max(tMax - tMin, 1);
  const x = (t: number) => left + ((t - t0 - tMin) / span) * plotWidth;

  const rates = { v1: rollingErrorRate(samples, 'v1', window), v2: rollingErrorRate(samples, 'v2', window) };
  const peak = Math.max(0.01, ...rates.v1.map((r) => r ?? 0), ...rates.v2.map((r) => r ?? 0));
  const errorMax = niceMax(peak * 1.1);
  // A canary caught at 5 % would be a flat line on a 0–100 % axis: the axis ends where the run went.
  const shares = samples.map(canaryShare).filter((v): v is number => v !== null);
  const planned = timeline.markers.filter((m) => m.kind === 'step').map((m) => (m.percentage ?? 0) / 100);
  const shareMax = Math.min(1, niceMax(Math.max(0.01, ...shares, ...planned) * 1.1));
  const yShare = (share: number) => top.y + top.h - (share / shareMax) * top.h;
  const yError = (rate: number) => bottom.y + bottom.h - (rate / errorMax) * bottom.h;

  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  // Grid and axes.
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const share = fraction * shareMax;
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${fmt(yShare(share))}" y2="${fmt(yShare(share))}" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(yShare(share) + 4)}" text-anchor="end">${fmt(share * 100, 2)} %</text>`);
  }
  for (const rate of [0, errorMax / 2, errorMax]) {
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${fmt(yError(rate))}" y2="${fmt(yError(rate))}" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(yError(rate) + 4)}" text-anchor="end">${fmt(rate * 100)} %</text>`);
  }
  const tickStep = [1, 2, 5, 10, 15, 30, 60, 120].map((s) => s * 1000).find((s) => span / s <= 12) ?? 300_000;
  for (let t = Math.ceil(tMin / tickStep) * tickStep; t <= tMax; t += tickStep) {
    const px = fmt(x(t0 + t));
    parts.push(`<line x1="${px}" x2="${px}" y1="${bottom.y + bottom.h}" y2="${bottom.y + bottom.h + 4}" stroke="#334155"/>`);
    parts.push(`<text x="${px}" y="${bottom.y + bottom.h + 17}" text-anchor="middle">${t / 1000} s</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${bottom.y + bottom.h + 34}" text-anchor="middle" fill="#475569">seconds since the plan started</text>`);
  parts.push(`<text x="${left}" y="${top.y - 8}" font-weight="600">share of requests routed to v2</text>`);
  parts.push(`<text x="${left}" y="${bottom.y - 8}" font-weight="600">error rate per version (${window} s window)</text>`);

  // Markers under the lines.
  const labelled: number[] = [];
  for (const marker of timeline.markers) {
    const px = x(marker.t);
    if (px < left || px > left + plotWidth) continue;
    parts.push(markerLine(marker, px, top.y, bottom.y + bottom.h));
    // Step labels go on top; a label too close to the previous one moves down a row.
    const row = labelled.filter((other) => Math.abs(other - px) < 70).length;
    labelled.push(px);
    const y = marker.kind === 'step' ? top.y + 12 + row * 12 : bottom.y + 12 + row * 12;
    parts.push(`<text x="${fmt(px + 3)}" y="${y}" fill="${colors[marker.kind]}" font-size="11">${escape(marker.label)}</text>`);
  }

  // The plan's percentage as a step line (0 before the first step and after a kill), then the
  // measured share as one flat segment per sampling interval.
  const changes = timeline.markers.filter((m) => m.kind === 'step' || m.kind === 'kill');
  const target: string[] = [`${fmt(x(t0 + tMin))},${fmt(yShare(0))}`];
  let level = 0;
  for (const m of changes) {
    const next = m.kind === 'kill' ? 0 : (m.percentage ?? 0) / 100;
    target.push(`${fmt(x(m.t))},${fmt(yShare(level))}`, `${fmt(x(m.t))},${fmt(yShare(next))}`);
    level = next;
  }
  target.push(`${fmt(x(t0 + tMax))},${fmt(yShare(level))}`);
  parts.push(`<polyline fill="none" stroke="${colors.target}" stroke-width="1.5" stroke-dasharray="5 4" points="${target.join(' ')}"/>`);
  const share: string[] = [];
  for (const s of samples) {
    const value = canaryShare(s);
    if (value === null) continue;
    share.push(`${fmt(x(s.from))},${fmt(yShare(value))}`, `${fmt(x(s.t))},${fmt(yShare(value))}`);
  }
  if (share.length > 0) parts.push(`<polyline fill="none" stroke="${colors.share}" stroke-width="2" points="${share.join(' ')}"/>`);
  const mid = (s: TimelineSample) => x((s.from + s.t) / 2);
  parts.push(polyline(samples.map((s, i) => (rates.v1[i] == null ? null : [mid(s), yError(rates.v1[i]!)])), colors.v1));
  parts.push(polyline(samples.map((s, i) => (rates.v2[i] == null ? null : [mid(s), yError(rates.v2[i]!)])), colors.v2));

  // Frames and legend.
  parts.push(`<rect x="${left}" y="${top.y}" width="${plotWidth}" height="${top.h}" fill="none" stroke="#94a3b8"/>`);
  parts.push(`<rect x="${left}" y="${bottom.y}" width="${plotWidth}" height="${bottom.h}" fill="none" stroke="#94a3b8"/>`);
  const legend: Array<[string, string, string?]> = [
    [colors.share, 'on v2 (measured)'],
    [colors.target, 'plan percentage', '5 4'],
    [colors.v1, 'v1 errors'],
    [colors.v2, 'v2 errors'],
    [colors.evidence, 'first significant evidence', '3 3'],
    [colors.kill, 'kill'],
    [colors['router-kill'], 'router has the kill', '1 3'],
  ];
  let lx = left;
  const ly = height - 12;
  for (const [color, label, dash] of legend) {
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${lx + 22}" y="${ly}">${escape(label)}</text>`);
    lx += 34 + label.length * 6.6;
  }

  const title = timeline.bug === 'latency' ? `${timeline.scenario} v2 (latency bug)` : `${timeline.scenario} v2 (bug rate ${fmt(timeline.bugRate * 100)} %)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" fill="#0f172a" role="img" aria-label="${escape(title)}">`,
    `<title>${escape(title)}</title>`,
    ...parts,
    `<text x="${left}" y="20" font-size="15" font-weight="700">${escape(title)}</text>`,
    '</svg>',
  ].join('\n');
}

function markerLine(marker: TimelineMarker, px: number, y1: number, y2: number): string {
  const dash = { step: '2 3', evidence: '3 3', kill: '', 'router-kill': '1 3', completed: '6 3' }[marker.kind];
  const widthPx = marker.kind === 'kill' || marker.kind === 'evidence' ? 2 : 1;
  return `<line x1="${fmt(px)}" x2="${fmt(px)}" y1="${y1}" y2="${y2}" stroke="${colors[marker.kind]}" stroke-width="${widthPx}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

const ms = (value: number | null) => (value === null ? '–' : `${value} ms`);
const pct = (value: number | null) => (value === null ? '–' : `${fmt(value * 100, 2)} %`);

/** The rows of the summary table (also printed at the end of a run). */
export function summaryRows(summaries: readonly RunSummary[]): string[][] {
  return [
    ['run', 'outcome', 'caught at step', 'users', 'on v2', 'exposed to bug', 'v2 errors', 'breach → kill', 'kill → last v2 request', 'v2 requests after kill', 'final'],
    ...summaries.map((s) => [
      s.bug === 'latency' ? `${s.scenario} (latency bug)` : `${s.scenario} (bug ${fmt(s.bugRate * 100)} %)`,
      s.outcome,
      s.caughtAtStep === null || s.caughtAtStep === undefined ? '–' : `${s.caughtAtStep} (${s.caughtAtPercentage} %)`,
      String(s.users),
      String(s.usersOnCanary),
      String(s.usersExposedToBug),
      pct(s.errorRate.v2),
      ms(s.breachToKillMs),
      ms(s.killToLastCanaryRequestMs),
      s.canaryRequestsAfterKill === null ? '–' : String(s.canaryRequestsAfterKill),
      `${s.flagEnabled ? 'on' : 'killed'} at ${s.finalPercentage ?? '?'} %`,
    ]),
  ];
}

export function renderTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The self-contained report: no scripts, no external resources, one inline SVG per run. */
export function renderReport(runs: readonly RunResult[], generatedAt = new Date()): string {
  const rows = summaryRows(runs.map((r) => r.summary));
  const table = `<table><thead><tr>${rows[0]!.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(1)
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const sections = runs.map(({ summary, timeline }) => {
    const facts: Array<[string, string]> = [
      ['outcome', summary.outcome],
      ['users (distinct, sent ≥ 1 request)', String(summary.users)],
      ['requests / on v2', `${summary.requests} / ${summary.canaryRequests}${summary.requestsSkipped ? ` (${summary.requestsSkipped} skipped: load generator saturated)` : ''}`],
      ['users on v2 / exposed to the bug / got a v2 error', `${summary.usersOnCanary} / ${summary.usersExposedToBug} / ${summary.usersWithCanaryErrors}`],
      ['error rate v1 / v2', `${pct(summary.errorRate.v1)} / ${pct(summary.errorRate.v2)}`],
      ['first significant evidence → kill', ms(summary.breachToKillMs)],
      ['kill → router has it', ms(summary.killToRouterMs)],
      ['kill → last request sent to v2', ms(summary.killToLastCanaryRequestMs)],
      ['plan duration', ms(summary.planDurationMs)],
      ['server reason', summary.reason ?? '–'],
    ];
    return `<section><h2>${escape(timeline.scenario)} v2</h2>
<figure>${renderChart(timeline)}</figure>
<dl>${facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl></section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Aviary canary demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1000px;color:#0f172a;padding:0 1rem}
table{border-collapse:collapse;font-size:.9rem;margin:1rem 0}th,td{border-bottom:1px solid #e2e8f0;padding:.35rem .6rem;text-align:left}
figure{margin:1rem 0;overflow-x:auto}svg{max-width:100%;height:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;font-size:.9rem}dt{color:#475569}dd{margin:0}
p.note{color:#475569;font-size:.9rem}
</style></head><body>
<h1>Aviary canary demo</h1>
<p class="note">Generated ${escape(generatedAt.toISOString())}. Two versions of a checkout service run side by side; a router sends
each user to v2 when <code>checkout-v2</code> is on for them (@aviary/node), and a rollout plan widens the rule
1 → 5 → 25 → 50 → 100 % under a guard on <code>error</code>/<code>request</code>. Charts come from the router's own counts, sampled every second.</p>
${table}
${sections.join('\n')}
</body></html>
`;
}
