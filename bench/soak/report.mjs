// Turns what a soak run recorded into its verdict, its numbers and its report.
import { OPS } from './client.mjs';

/** After a component is back, 503s are still "during the outage" for this long (reconnects, health checks). */
export const OUTAGE_SLACK_MS = 10_000;
/** Failures this soon after a key rotation are blamed on it (instances reload keys within 30 s). */
export const ROTATION_WINDOW_MS = 40_000;

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (v, digits = 1) => (v === undefined ? undefined : Math.round(v * 10 ** digits) / 10 ** digits);

/** Request records as objects. */
function records(events) {
  const out = [];
  for (let i = 0; i < events.length; i += 4) out.push({ t: events[i], ms: events[i + 1], op: OPS[events[i + 2]], status: events[i + 3] });
  return out;
}

/**
 * Which phase a moment belongs to: the fault whose window holds it (from its start to the start
 * of the next fault), or `steady` before the first fault.
 */
function phaseOf(t, faults) {
  let phase = 'steady';
  for (const fault of faults) if (t >= fault.start) phase = fault.name;
  return phase;
}

/** Everything the run's verdict and report need. */
export function analyse({ ctx, faults, durationMs, finalChecks }) {
  const all = records(ctx.events);
  // A request is "during an outage" when its time in flight overlaps the outage (from the fault
  // until the component is back, plus slack for reconnects and health checks).
  const outage = (r) => faults.some((f) => f.outage && r.t + r.ms >= f.start && r.t <= (f.restored ?? f.start) + OUTAGE_SLACK_MS);
  const legit = all.filter((r) => r.op !== 'replay');
  const unexpected5xx = all.filter((r) => (r.status >= 500 && r.status !== 503) || (r.status === 503 && !outage(r)));
  // A connection cut during an outage (an instance killed mid-response) is the client's cue to
  // retry, like a 503; anywhere else it is a failure.
  const interrupted = legit.filter((r) => r.status <= 0 && outage(r));
  const transport = legit.filter((r) => r.status <= 0 && !outage(r));
  const rotationIndex = faults.findIndex((f) => f.name === 'key rotation');
  const rotation = faults[rotationIndex];
  const rotationEnd = rotation === undefined ? 0 : Math.min(rotation.start + ROTATION_WINDOW_MS, faults[rotationIndex + 1]?.start ?? Infinity);
  const inRotation = (t) => rotation !== undefined && t >= rotation.start && t < rotationEnd;
  const refusedLegit = ctx.failures.filter((f) => f.kind === 'refused');
  const rotationFailures = [...refusedLegit.filter((f) => inRotation(f.t)), ...transport.filter((r) => inRotation(r.t + r.ms))];
  const grantsLostFinal = finalChecks.filter((c) => !c.ok);
  const otherFailures = [
    ...refusedLegit.filter((f) => !inRotation(f.t)),
    ...ctx.failures.filter((f) => f.kind === 'failure'),
    ...transport.filter((r) => !inRotation(r.t + r.ms)),
  ];

  const criteria = [
    { name: 'replays accepted', value: ctx.replaysAccepted.length },
    { name: 'grants lost', value: ctx.stats.grantsLost + grantsLostFinal.length },
    { name: 'refresh families revoked by a legitimate race', value: ctx.stats.raceRevocations },
    { name: '5xx other than 503 during an outage', value: unexpected5xx.length },
    { name: 'failures caused by the key rotation', value: rotationFailures.length },
    { name: 'other failures of legitimate requests (refused, timed out, reset)', value: otherFailures.length },
  ].map((c) => ({ ...c, ok: c.value === 0 }));
  // A run that did not exercise something proves nothing about it.
  const coverage = [
    { name: 'authorization-code flows', value: ctx.stats.flows },
    { name: 'tools/calls', value: ctx.stats.calls },
    { name: 'refreshes', value: ctx.stats.refreshes },
    { name: 'refresh races', value: ctx.stats.races },
    { name: 'replays sent', value: ctx.stats.replays },
  ].map((c) => ({ ...c, ok: c.value > 0 }));

  // Latency per phase and operation, legitimate answered requests (2xx/3xx) only.
  const phases = ['steady', ...faults.map((f) => f.name)];
  const latency = [];
  for (const phase of phases) {
    for (const op of OPS) {
      const ms = all.filter((r) => r.op === op && r.status > 0 && r.status < 400 && phaseOf(r.t, faults) === phase).map((r) => r.ms).sort((a, b) => a - b);
      if (ms.length > 0) latency.push({ phase, op, count: ms.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)) });
    }
  }

  // Recovery after each outage fault: from the fault until the last failed legitimate request of
  // its window, i.e. until service was whole again (0: nothing failed).
  const recovery = faults.map((fault, i) => {
    const end = faults[i + 1]?.start ?? Infinity;
    // A request belongs to the window it ended in: one in flight when the next fault hit is the next fault's.
    const inWindow = legit.filter((r) => r.t + r.ms >= fault.start && r.t + r.ms < end);
    const bad = inWindow.filter((r) => r.status === 503 || r.status <= 0 || r.status >= 500);
    const last = bad.length === 0 ? undefined : Math.max(...bad.map((r) => r.t + r.ms));
    return {
      fault: fault.name,
      at: round(fault.start / 1000),
      downFor: fault.restored === undefined ? undefined : round((fault.restored - fault.start) / 1000),
      requests: inWindow.length,
      unavailable: inWindow.filter((r) => r.status === 503).length,
      failed: bad.filter((r) => r.status !== 503).length,
      recoveredAfter: last === undefined ? 0 : round((last - fault.start) / 1000),
    };
  });

  const counts = {};
  for (const r of all) {
    const key = r.op;
    counts[key] ??= { total: 0, ok: 0, unavailable: 0, other: 0 };
    counts[key].total += 1;
    if (r.status > 0 && r.status < 400) counts[key].ok += 1;
    else if (r.status === 503) counts[key].unavailable += 1;
    else counts[key].other += 1;
  }

  // Per-second buckets for the charts.
  const seconds = Math.ceil(durationMs / 1000);
  const buckets = Array.from({ length: seconds }, () => ({ ok: 0, unavailable: 0, interrupted: 0, failed: 0, replays: 0, lat: [] }));
  for (const r of all) {
    const b = buckets[Math.min(seconds - 1, Math.max(0, Math.floor(r.t / 1000)))];
    if (r.op === 'replay') {
      if (r.status === 400 || r.status === 401) b.replays += 1;
      else if (r.status === 200) b.failed += 1;
      continue;
    }
    if (r.status > 0 && r.status < 400) {
      b.ok += 1;
      b.lat.push(r.ms);
    } else if (r.status === 503) b.unavailable += 1;
    else if (r.status <= 0 && outage(r)) b.interrupted += 1;
    else b.failed += 1;
  }
  for (const b of buckets) {
    b.lat.sort((x, y) => x - y);
    b.p50 = round(percentile(b.lat, 50) ?? 0);
    b.p99 = round(percentile(b.lat, 99) ?? 0);
    delete b.lat;
  }

  const passed = criteria.every((c) => c.ok) && coverage.every((c) => c.ok);
  return {
    passed,
    criteria,
    coverage,
    counts,
    latency,
    recovery,
    buckets,
    stats: ctx.stats,
    interrupted: interrupted.length,
    failures: ctx.failures.slice(0, 50),
    unexpected5xx: unexpected5xx.slice(0, 50),
    replaysAccepted: ctx.replaysAccepted,
    grantsLostFinal,
  };
}

/** The report as Markdown. */
export function markdown(result, meta) {
  const lines = [];
  lines.push(`# Soak run: ${result.passed ? 'PASSED' : 'FAILED'}`, '');
  lines.push(`${meta.durationSeconds} s of mixed traffic, ${meta.users} users + 1 replaying attacker, through HAProxy to ${meta.instances} Warden instances sharing PostgreSQL and Redis. ${meta.when}; ${meta.machine}.`, '');
  lines.push('| criterion | count | |', '| --- | ---: | --- |');
  for (const c of result.criteria) lines.push(`| ${c.name} | ${c.value} | ${c.ok ? 'ok' : '**FAILED**'} |`);
  for (const c of result.coverage) lines.push(`| ${c.name} (must be > 0) | ${c.value} | ${c.ok ? 'ok' : '**NOT EXERCISED**'} |`);
  lines.push('', '## Requests', '', '| kind | total | answered | 503 | other |', '| --- | ---: | ---: | ---: | ---: |');
  for (const [op, c] of Object.entries(result.counts)) lines.push(`| ${op} | ${c.total} | ${c.ok} | ${c.unavailable} | ${c.other} |`);
  lines.push('', `Connections cut during an outage (an instance killed mid-request; the client retries): ${result.interrupted}.`);
  lines.push('', `Replays: ${result.stats.replays} sent, ${result.stats.replaysRefused} refused, ${result.replaysAccepted.length} accepted. Refresh races: ${result.stats.races} (+${result.stats.racesInterrupted} interrupted by an outage and settled by retries).`);
  lines.push('', '## Faults and recovery', '', '| fault | at | down for | requests in its window | 503 | failed | service whole again after |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of result.recovery) lines.push(`| ${r.fault} | ${r.at} s | ${r.downFor === undefined ? '–' : `${r.downFor} s`} | ${r.requests} | ${r.unavailable} | ${r.failed} | ${r.recoveredAfter} s |`);
  lines.push('', '## Latency per phase (answered legitimate requests, ms)', '', '| phase | request | count | p50 | p99 |', '| --- | --- | ---: | ---: | ---: |');
  for (const l of result.latency.filter((l) => l.op !== 'replay')) lines.push(`| ${l.phase} | ${l.op} | ${l.count} | ${l.p50} | ${l.p99} |`);
  if (result.failures.length > 0 || result.unexpected5xx.length > 0) {
    lines.push('', '## Refused or cut legitimate requests, and unexpected 5xx (first 50)', '', 'Connections cut during an outage are listed here too; they count against no criterion.', '');
    for (const f of result.failures) lines.push(`- ${(f.t / 1000).toFixed(1)} s ${f.kind}: ${f.message}`);
    for (const r of result.unexpected5xx) lines.push(`- ${(r.t / 1000).toFixed(1)} s ${r.op}: ${r.status}`);
  }
  lines.push('', '![throughput, latency and errors over time](soak.svg)', '');
  return lines.join('\n');
}
