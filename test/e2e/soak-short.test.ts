/**
 * The short soak (`bench/soak.mjs` with a short duration): three `warden serve` instances behind a
 * real HAProxy, sharing a real PostgreSQL and Redis that the run starts, under mixed traffic with
 * one fault of each kind — a key rotation, an instance SIGKILL, a Redis restart, a PostgreSQL
 * restart. Outcomes are counted, never timed: zero replays accepted, zero grants lost, zero
 * families revoked by a legitimate refresh race, zero 5xx other than 503 during an outage, zero
 * failures from the rotation. Skipped (with the reason) when HAProxy, redis-server or the
 * PostgreSQL server binaries are missing; under CI that fails instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript benchmark module, typed by its use here.
import { missingComponents, runSoak } from '../../bench/soak/run.mjs';
import { isCi } from '../helpers/services.js';

interface Criterion {
  name: string;
  value: number;
  ok: boolean;
}
interface SoakResult {
  passed: boolean;
  criteria: Criterion[];
  coverage: Criterion[];
  recovery: unknown[];
  outDir: string;
}

const missing = (missingComponents as () => string[])();
if (missing.length > 0) {
  const message = `short soak needs ${missing.join(', ')}`;
  if (isCi()) throw new Error(`${message}; CI is set, so this fails rather than skips`);
  console.info(`[warden tests] ${message}: skipped.`);
}

describe.skipIf(missing.length > 0)(`short soak: 3 instances behind HAProxy, PostgreSQL and Redis restarted${missing.length > 0 ? ` (skipped: missing ${missing.join(', ')})` : ''}`, () => {
  it('RFC 9449 §11.1, RFC 9700 §4.14.2: no replay accepted, no grant lost, only 503 during outages, across every fault', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'warden-soak-report-'));
    let result: SoakResult | undefined;
    try {
      result = (await runSoak({ durationSeconds: 36, users: 4, outDir })) as SoakResult;
      const table = [...result.criteria, ...result.coverage].map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.value}`).join('\n');
      console.info(`[short soak]\n${table}`);
      for (const c of result.criteria) expect({ [c.name]: c.value }).toEqual({ [c.name]: 0 });
      for (const c of result.coverage) expect(c.value, c.name).toBeGreaterThan(0);
      expect(result.passed).toBe(true);
    } finally {
      // Keep the report and logs of a failed run for whoever has to read them.
      if (result?.passed) await rm(outDir, { recursive: true, force: true });
      else console.info(`[short soak] report and logs kept in ${outDir}`);
    }
  }, 240_000);
});
