import type { Schemas } from '../../lib/api';
import type { Plan } from './api';

type Series = Schemas['MetricsSeries'];
type Guard = NonNullable<Plan['guard']>;

interface Point {
  t: number;
  exposed: number | null;
  control: number | null;
}

const W = 640;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

/** What the guard compares, summed per arm over variants and accumulated since `since`, as the guard counts it. */
export function cumulativeRatios(series: Series, guard: Guard): Point[] {
  const [top, bottom] = guard.metric ? [guard.metric, guard.metric] : [guard.numerator ?? '', guard.denominator ?? ''];
  const byTime = new Map<number, { e: [number, number]; c: [number, number] }>();
  for (const arm of series.arms) {
    for (const p of arm.points) {
      const t = new Date(p.time).getTime();
      const at = byTime.get(t) ?? { e: [0, 0], c: [0, 0] };
      // A mean guard: sum of values over their count; a ratio guard: numerator count over denominator count.
      const n = guard.metric ? (p.events[top]?.sum ?? 0) : (p.events[top]?.count ?? 0);
      const d = p.events[bottom]?.count ?? 0;
      const side = arm.enabled ? at.e : at.c;
      side[0] += n;
      side[1] += d;
      byTime.set(t, at);
    }
  }
  const e: [number, number] = [0, 0];
  const c: [number, number] = [0, 0];
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, at]) => {
      e[0] += at.e[0];
      e[1] += at.e[1];
      c[0] += at.c[0];
      c[1] += at.c[1];
      return { t, exposed: e[1] > 0 ? e[0] / e[1] : null, control: c[1] > 0 ? c[0] / c[1] : null };
    });
}

const fmt = (v: number) => (v >= 10 ? v.toFixed(1) : v >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(1));
const clock = new Intl.DateTimeFormat('en', { timeStyle: 'short' });

/** The exposed and control ratio (or mean) over time, and the limit the guard allows, as an inline SVG. */
export function RatioChart({ series, guard }: { series: Series; guard: Guard }) {
  const points = cumulativeRatios(series, guard);
  const what = guard.metric ? `mean ${guard.metric}` : `${guard.numerator} / ${guard.denominator}`;
  if (points.length === 0) return <p className="muted">No {guard.metric ?? guard.denominator} events reported since the plan started.</p>;
  const k = 1 + guard.maxRelativeIncrease;
  const values = points.flatMap((p) => [p.exposed, p.control === null ? null : p.control * k]).filter((v): v is number => v !== null);
  const max = Math.max(...values, 0) * 1.1 || 1;
  const t0 = points[0].t;
  const t1 = Math.max(points.at(-1)!.t, t0 + 10_000);
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const line = (pick: (p: Point) => number | null) =>
    points
      .filter((p) => pick(p) !== null)
      .map((p) => `${x(p.t).toFixed(1)},${y(pick(p)!).toFixed(1)}`)
      .join(' ');
  const last = points.at(-1)!;
  const summary =
    `${what}, accumulated since the plan started: exposed ${last.exposed === null ? 'no data' : fmt(last.exposed)}, ` +
    `control ${last.control === null ? 'no data' : fmt(last.control)}, limit ${last.control === null ? 'none yet' : fmt(last.control * k)}.`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Chart: ${summary}`}>
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="axis" />
        <text x={PAD.left - 6} y={PAD.top + 10} textAnchor="end" className="tick">
          {fmt(max)}
        </text>
        <text x={PAD.left - 6} y={H - PAD.bottom} textAnchor="end" className="tick">
          0
        </text>
        <text x={PAD.left} y={H - 8} className="tick">
          {clock.format(t0)}
        </text>
        <text x={W - PAD.right} y={H - 8} textAnchor="end" className="tick">
          {clock.format(t1)}
        </text>
        <polyline points={line((p) => (p.control === null ? null : p.control * k))} className="series-limit" />
        <polyline points={line((p) => p.control)} className="series-control" />
        <polyline points={line((p) => p.exposed)} className="series-exposed" />
      </svg>
      <figcaption>
        <span className="legend legend-exposed">Exposed</span> <span className="legend legend-control">Control</span>{' '}
        <span className="legend legend-limit">Limit ({k} × control)</span>
        <span className="muted"> — {summary}</span>
      </figcaption>
    </figure>
  );
}
