/**
 * The token-endpoint benchmark's durable-store and grant rows (`bench/token.mjs`), run once with
 * tiny windows: every row starts, passes its correctness gate and answers its timed requests.
 * Nothing is timed or compared here — `npm run bench` does that; this keeps the rows from rotting.
 * The refresh rows present each successor exactly once, so a single non-200 (or a 200 without a
 * new refresh token) in a chain fails the test. PostgreSQL rows need WARDEN_TEST_POSTGRES_URL
 * (own schema per run, dropped at the end); without it they are skipped, and when it is set but
 * unreachable they are skipped locally and fail under CI (test/helpers/services.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript benchmark modules, typed by their use here.
import { createChildren } from '../../bench/lib/processes.mjs';
// @ts-expect-error -- plain JavaScript benchmark modules, typed by their use here.
import { runTokenSuite } from '../../bench/token.mjs';
import { testService } from '../helpers/services.js';

interface Variant {
  name: string;
  store: string;
  grant: string;
  skipped?: string;
  rates: number[];
  issues: string[];
}
interface Child {
  next(type: string, timeoutMs: number): Promise<unknown>;
  child: { send(message: unknown): void };
}
interface Children {
  spawn(name: string, script: string, cpu: number, env: Record<string, string>): Promise<Child>;
  killAll(): void;
}

const ROWS = [
  'token-warden-sqlite-dpop',
  'token-warden-sqlite-bearer',
  'token-warden-postgres-dpop',
  'token-warden-postgres-bearer',
  'token-warden-refresh',
  'token-oidc-provider-refresh',
  'token-warden-sqlite-refresh',
  'token-warden-postgres-refresh',
  'token-warden-code',
  'token-oidc-provider-code',
  'token-warden-sqlite-code',
  'token-warden-postgres-code',
];

const postgres = await testService('postgres');

describe('token benchmark rows (bench/token.mjs), one tiny round each', () => {
  const children = (createChildren as () => Children)();
  let variants: Variant[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    const load = await children.spawn('load', 'load.mjs', 0, {});
    await load.next('ready', 10_000);
    variants = (await runTokenSuite({
      children,
      load,
      // lateReplay: false skips the informational 2,500-request probe of the DPoP rows.
      options: { rounds: 1, seconds: 0.5, concurrency: 4, warmupSeconds: 0.2, lateReplay: false },
      log: (line: string) => log.push(line),
      only: ROWS,
      // Without WARDEN_TEST_POSTGRES_URL (or with it unreachable, outside CI) the PostgreSQL rows are skipped.
      postgresUrl: postgres.skip ? null : postgres.url,
    })) as Variant[];
  }, 240_000);
  afterAll(() => children.killAll());

  it('RFC 6749 §4.4, §4.1.3, §6; RFC 9700 §4.14.2: every row passes its correctness gate and answers only 200s (each refresh successor used once)', () => {
    expect(variants.map((v) => v.name).sort()).toEqual([...ROWS].sort());
    for (const v of variants) {
      if (v.store === 'postgres' && postgres.skip) {
        expect(v.skipped, v.name).toMatch(/PostgreSQL/);
        continue;
      }
      expect({ name: v.name, skipped: v.skipped }, log.join('\n')).toEqual({ name: v.name, skipped: undefined });
      expect(v.rates, v.name).toHaveLength(1);
      // "pool ran out" is a sizing note of a tiny window; anything else (non-200s, socket errors,
      // a refresh chain broken even after the window) is a failure.
      expect(v.issues.filter((issue) => !issue.includes('pool ran out')), v.name).toEqual([]);
    }
  });
});
