// The markdown report: one row per variant, ratios paired per round.

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtRate = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

/** Median over rounds of (variant's rate / reference's rate in the same round). */
function pairedRatio(v, ref) {
  if (!ref || ref.skipped || v.skipped) return NaN;
  return median(v.rates.map((r, i) => r / ref.rates[i]));
}

/** Renders the results of `variants` (with rates per round) and the run's metadata. */
export function markdownReport(variants, meta) {
  const byName = Object.fromEntries(variants.map((v) => [v.name, v]));
  const lines = [
    '# Warden resource-server benchmark',
    '',
    `${new Date().toISOString()} · Node ${meta.node} (OpenSSL ${meta.openssl}) · ${meta.cpu} × ${meta.cores} cores · ` +
      (meta.pinned ? 'servers pinned to core 1, load generator to core 0' : 'not pinned (no taskset)'),
    `${meta.rounds} rounds × ${meta.seconds} s per variant, interleaved · concurrency ${meta.concurrency} · warm-up ${meta.warmupSeconds} s · ` +
      `jose ${meta.versions.jose}, oauth4webapi ${meta.versions.oauth4webapi} · total ${meta.totalSeconds.toFixed(0)} s`,
    '',
    'Every request: POST /mcp `tools/call`, DPoP-bound ES256 access token, a fresh ES256 DPoP proof (unique `jti`).',
    'Ratios are medians of per-round ratios (each round measures all variants seconds apart); absolute req/s depend on the machine and its neighbours.',
    '',
    `Load average (1 min) at start ${meta.loadStart.toFixed(2)}, at end ${meta.loadEnd.toFixed(2)} on ${meta.cores} cores — ` +
      'above ~1 the neighbours share our cores and the per-round spread grows.',
    '',
    '| variant | req/s (median) | vs minimal | vs bare | notes | per round (req/s) |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const v of variants) {
    const notes = [v.note];
    if (v.skipped) notes.push(`**skipped**: ${v.skipped}`);
    else {
      if (v.checks === 'no-replay') notes.push('replayed proof accepted');
      if (v.name === 'warden-memory' && byName.minimal && !byName.minimal.skipped) {
        const r = pairedRatio(v, byName.minimal);
        notes.push(r >= 0.9 ? 'within 10% of minimal (design target)' : '**below the design target (≥ 0.90× minimal)**');
      }
      if (v.name === 'warden-redis' && byName['warden-memory'] && !byName['warden-memory'].skipped) {
        notes.push(`${fmtRatio(pairedRatio(v, byName['warden-memory']))} warden-memory (cost of the Redis round trip)`);
      }
      notes.push(...v.issues);
      const finite = v.rates.filter(Number.isFinite);
      const spread = finite.length > 1 ? (Math.max(...finite) - Math.min(...finite)) / median(finite) : 0;
      if (spread > 0.2) notes.push(`noisy: rounds spread ${(spread * 100).toFixed(0)}% of the median`);
    }
    const rate = v.skipped ? NaN : median(v.rates);
    lines.push(
      `| ${v.name} | ${fmtRate(rate)} | ${fmtRatio(pairedRatio(v, byName.minimal))} | ${fmtRatio(pairedRatio(v, byName.bare))} | ` +
        `${notes.join('; ')} | ${v.skipped ? '' : v.rates.map(fmtRate).join(' / ')} |`,
    );
  }
  return lines.join('\n');
}
