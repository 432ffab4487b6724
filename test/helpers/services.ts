/**
 * Outside services (Redis, PostgreSQL) for tests, opted into by environment variable.
 *
 * - Variable unset: the suite is skipped, with a note saying which variable to set.
 * - Set and reachable: the suite runs.
 * - Set but unreachable: under CI (`CI` set) the suite runs and fails in `requireService`, so a
 *   broken service container can never turn into a green build; locally it is skipped with a
 *   warning.
 *
 * @example
 * ```ts
 * const redis = await testService('redis');
 * describe.skipIf(redis.skip)(`redis${redis.note}`, () => {
 *   beforeAll(() => requireService(redis));
 *   it('...', async () => { const url = redis.url!; ... });
 * });
 * ```
 */
import { connect } from 'node:net';

/** Services a suite can ask for. */
export type ServiceKind = 'redis' | 'postgres';

const SERVICES: Record<ServiceKind, { envVar: string; defaultPort: number }> = {
  redis: { envVar: 'WARDEN_TEST_REDIS_URL', defaultPort: 6379 },
  postgres: { envVar: 'WARDEN_TEST_POSTGRES_URL', defaultPort: 5432 },
};

/** What a suite needs to decide whether (and against what) to run. */
export interface TestService {
  kind: ServiceKind;
  /** The environment variable that names the service. */
  envVar: string;
  /** The configured URL (may hold credentials: never print it), or `undefined`. */
  url: string | undefined;
  /** True when the suite must be skipped (see the module comment). */
  skip: boolean;
  /** Suffix for the suite title explaining a skip; empty when the suite runs. */
  note: string;
  /** Whether a TCP connection succeeded when the service was resolved. */
  reachable: boolean;
}

/** `WARDEN_TEST_REDIS_URL`, or `undefined` when unset or empty. */
export function redisTestUrl(): string | undefined {
  return nonEmpty(process.env.WARDEN_TEST_REDIS_URL);
}

/** `WARDEN_TEST_POSTGRES_URL`, or `undefined` when unset or empty. */
export function postgresTestUrl(): string | undefined {
  return nonEmpty(process.env.WARDEN_TEST_POSTGRES_URL);
}

/**
 * Resolves a service once per test file (use top-level `await`), probing it with a TCP connect,
 * and prints a note when the suite will be skipped.
 */
export async function testService(kind: ServiceKind): Promise<TestService> {
  const { envVar } = SERVICES[kind];
  const url = kind === 'redis' ? redisTestUrl() : postgresTestUrl();
  if (url === undefined) {
    const note = ` (skipped: set ${envVar} to run)`;
    console.info(`[warden tests] ${kind} suites skipped: set ${envVar} to run them.`);
    return { kind, envVar, url, skip: true, note, reachable: false };
  }
  const reachable = await isReachable(kind, url);
  if (reachable || isCi()) return { kind, envVar, url, skip: false, note: '', reachable };
  const note = ` (skipped: ${envVar} is set but ${describeTarget(kind, url)} is unreachable)`;
  console.warn(
    `[warden tests] ${kind} suites skipped: ${envVar} is set but ${describeTarget(kind, url)} ` +
      'is unreachable (under CI this fails instead).',
  );
  return { kind, envVar, url, skip: true, note, reachable: false };
}

/**
 * Call in `beforeAll` of a suite gated on {@link testService}: re-probes and throws when the
 * service cannot be reached, so every test of the suite fails with a message that says why.
 *
 * @returns The service URL.
 */
export async function requireService(service: TestService): Promise<string> {
  const { kind, envVar, url } = service;
  if (url === undefined) throw new Error(`${envVar} is not set; the ${kind} suite should be skipped`);
  if (!(await isReachable(kind, url))) {
    throw new Error(
      `${envVar} is set but ${describeTarget(kind, url)} is unreachable` +
        (isCi() ? ' (CI is set, so this fails rather than skips)' : ''),
    );
  }
  return url;
}

/** True when running under CI (any non-empty `CI` other than `false`/`0`). */
export function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** Opens (and closes) a TCP connection to the URL's host and port. */
export async function isReachable(kind: ServiceKind, url: string, timeoutMs = 1000): Promise<boolean> {
  const target = hostAndPort(kind, url);
  if (target === undefined) return false;
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hostAndPort(kind: ServiceKind, url: string): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    const port = parsed.port === '' ? SERVICES[kind].defaultPort : Number(parsed.port);
    return { host, port };
  } catch {
    return undefined;
  }
}

/** `host:port` only: the URL itself may carry a password. */
function describeTarget(kind: ServiceKind, url: string): string {
  const target = hostAndPort(kind, url);
  return target === undefined ? `${kind} (unparseable URL)` : `${kind} at ${target.host}:${target.port}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
