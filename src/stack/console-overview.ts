/**
 * The operator console's overview, from the stack's metrics: requests, refusals by reason, DPoP
 * replays and refresh-token reuse, each over the last hour (a {@link MetricsWindow} reading the
 * counters once a minute) and since the instance started.
 */
import type { ConsoleOverview } from '../admin/console.js';
import { MetricsWindow } from '../admin/metrics-window.js';
import { AUTH_FAILURE_REASONS, type StackMetrics } from './metrics.js';

const LABELS: ReadonlyArray<readonly [string, string]> = [
  ['requests', 'Requests answered (every route)'],
  ['refusals', 'Refusals at protected resources (all reasons)'],
  ...AUTH_FAILURE_REASONS.map((reason) => [`refused:${reason}`, `Refused: ${reason}`] as const),
  ['replays', 'DPoP proofs replayed'],
  ['refreshReuse', 'Refresh token reuse (families revoked)'],
  ['jwksFailures', 'JWKS fetch failures'],
];

function readCounters(metrics: StackMetrics): Record<string, number> {
  const values: Record<string, number> = {
    requests: metrics.requests.total(),
    refusals: metrics.authFailures.total(),
    replays: metrics.replays.get(),
    refreshReuse: metrics.refreshReuse.get(),
    jwksFailures: metrics.jwksFetchFailures.get(),
  };
  for (const reason of AUTH_FAILURE_REASONS) values[`refused:${reason}`] = metrics.authFailures.get({ reason });
  return values;
}

/** The overview for the console, and its timer to stop when the stack closes. */
export function createConsoleOverview(metrics: StackMetrics | undefined): { overview: () => ConsoleOverview; stop: () => void } {
  if (metrics === undefined) return { overview: () => ({ rows: [], note: 'Metrics are off (metrics.enabled: false): there is nothing to count.' }), stop: () => {} };
  const window = new MetricsWindow(() => readCounters(metrics)).start();
  return {
    overview: () => {
      const { from, counts, totals } = window.counts();
      return { since: from, rows: LABELS.map(([key, label]) => [label, counts[key] ?? 0, totals[key] ?? 0] as const) };
    },
    stop: () => window.stop(),
  };
}
