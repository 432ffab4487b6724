/**
 * The assertion benchmark (`bench/assertion.mjs`, issue 13) run once with tiny windows: every row
 * starts, passes its correctness gate (RFC 7523 §3: a replayed or foreign assertion is 401) and
 * answers only 200s. Nothing is timed or compared here; this keeps the benchmark from rotting.
 * Needs the dist/ build (`npm test` builds it).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../bench/assertion.mjs', import.meta.url));

describe('assertion benchmark (bench/assertion.mjs), one tiny round', () => {
  it('RFC 7523 §2.2: every row passes its gate and reports a rate and the server CPU per token, with no refused request', () => {
    const run = spawnSync(process.execPath, [SCRIPT], {
      env: { ...process.env, BENCH_ROUNDS: '1', BENCH_SECONDS: '0.5', BENCH_WARMUP_SECONDS: '0.5', BENCH_CONCURRENCY: '4' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/EXCLUDED|skipped/);
    for (const row of ['assertion-warden-cc', 'assertion-oidc-provider-cc', 'assertion-warden-jwt-bearer']) {
      // `| name | rate | cpu | note |` with numbers.
      expect(run.stdout).toMatch(new RegExp(`^\\| ${row} \\| [1-9][0-9]* \\| [1-9][0-9]* \\| [^|]+ \\|$`, 'm'));
    }
    // A pool running out early is a sizing note under load; a refused request or a socket error is a failure.
    expect(run.stdout).not.toMatch(/not 200|socket errors/);
    expect(run.stdout).toMatch(/Warden \/ oidc-provider, private_key_jwt client_credentials: \*\*[0-9.]+×\*\*/);
  }, 200_000);
});
