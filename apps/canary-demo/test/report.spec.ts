import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChart, renderReport, renderTable, rollingErrorRate, summaryRows, type RunResult } from '../src/report.js';
import type { TimelineSample } from '../src/timeline.js';

/** Two runs recorded from a real demo run (timelines and summaries, without the router log). */
const recorded = JSON.parse(readFileSync(new URL('./fixtures/recorded-runs.json', import.meta.url), 'utf8')) as RunResult[];

function sample(from: number, v1: [number, number], v2: [number, number]): TimelineSample {
  return {
    from, t: from + 1000, planState: 'running', stepIndex: 0, percentage: 5, flagEnabled: true, verdict: null, z: null,
    counts: { v1: { requests: v1[0], errors: v1[1] }, v2: { requests: v2[0], errors: v2[1] } },
  };
}

describe('the report', () => {
  it('is one self-contained page: inline SVG per run, no scripts, nothing fetched', () => {
    const html = renderReport(recorded, new Date('2026-11-26T12:00:00Z'));
    expect(html.match(/<svg /g)).toHaveLength(recorded.length);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    const urls = html.match(/https?:\/\/[^\s"'<)]+/g) ?? [];
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html).toContain('rolled-back');
    expect(html).toContain('completed');
  });

  it('marks each step, the evidence and the kill of the buggy run', () => {
    const buggy = recorded.find((r) => r.summary.scenario === 'buggy')!;
    const svg = renderChart(buggy.timeline);
    for (const marker of buggy.timeline.markers) expect(svg).toContain(`>${marker.label}</text>`);
    expect(buggy.timeline.markers.map((m) => m.kind)).toEqual(expect.arrayContaining(['step', 'evidence', 'kill']));
    expect(svg).toContain('#b91c1c');
  });

  it('escapes what it writes', () => {
    const run = structuredClone(recorded[0]!);
    run.timeline.markers.push({ t: run.timeline.planStartedAt, kind: 'step', label: '<b>&' });
    run.summary.reason = '<script>alert(1)</script>';
    const html = renderReport([run]);
    expect(html).toContain('&lt;b&gt;&amp;');
    expect(html).not.toContain('<script>');
  });

  it('smooths error rates over a window and leaves gaps where an arm had no traffic', () => {
    const samples = [sample(0, [100, 1], [0, 0]), sample(1000, [100, 3], [10, 5]), sample(2000, [100, 0], [10, 1]), sample(3000, [100, 0], [0, 0])];
    expect(rollingErrorRate(samples, 'v1', 2)).toEqual([0.01, 0.02, 0.015, 0]);
    expect(rollingErrorRate(samples, 'v2', 2)).toEqual([null, 0.5, 0.3, null]);
  });

  it('prints a table with a row per run', () => {
    const table = renderTable(summaryRows(recorded.map((r) => r.summary)));
    const lines = table.split('\n');
    expect(lines).toHaveLength(2 + recorded.length);
    expect(lines[0]).toMatch(/^run\s+outcome\s+caught at step\s+users/);
    expect(table).toMatch(/buggy \(bug 20 %\)\s+rolled-back/);
  });
});
