/**
 * Readiness (`GET /readyz`): whether this instance can serve requests now — each store a request
 * needs answers. `/healthz` (liveness) says only that the process answers HTTP, so an orchestrator
 * restarts a hung process but merely stops routing to an instance whose Redis or PostgreSQL is
 * unreachable (restarting it would not bring the store back).
 *
 * Each check is one real round trip on the path requests take: a claim of a fresh random key with
 * a one-second TTL in the replay store, a read of an unbound key in the session store, a read of an
 * unknown client in the authorization server's store. A check that does not answer within
 * {@link CHECK_TIMEOUT_MS} counts as down.
 */
import { randomUUID } from 'node:crypto';
import type { ReplayStore, SessionStore } from '../stores/contracts.js';
import type { AuthorizationServerStores } from '../stores/authorization-server-contracts.js';

/** How long one store may take to answer a readiness check. */
export const CHECK_TIMEOUT_MS = 2000;

/** The readiness path (at the root, like `/healthz`: not under `publicUrl`'s path prefix). */
export const READY_PATH = '/readyz';

/** What `/readyz` answers: `ready` only when every check is `ok`. */
export interface ReadinessReport {
  status: 'ready' | 'unavailable';
  checks: Record<string, 'ok' | 'unavailable'>;
}

/** The stores a stack's requests need. */
export interface ReadinessStores {
  replay: ReplayStore;
  sessions: SessionStore;
  /** The authorization server's store, when it runs. */
  storage?: Pick<AuthorizationServerStores, 'clients'>;
}

/** Builds the readiness check of a stack: all checks run at once. */
export function createReadinessCheck(stores: ReadinessStores): () => Promise<ReadinessReport> {
  const checks: Record<string, () => Promise<unknown>> = {
    replay: () => stores.replay.claim(`readiness:${randomUUID()}`, 1),
    sessions: () => stores.sessions.owner(`readiness:${randomUUID()}`, 1),
  };
  const storage = stores.storage;
  if (storage !== undefined) checks['storage'] = () => storage.clients.get(`readiness-${randomUUID()}`);
  return async () => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => answers(checks[name]!)));
    const report: ReadinessReport = { status: results.every(Boolean) ? 'ready' : 'unavailable', checks: {} };
    names.forEach((name, i) => (report.checks[name] = results[i] ? 'ok' : 'unavailable'));
    return report;
  };
}

/** True when `check` resolves within the timeout; any rejection or a timeout is false. */
async function answers(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([check().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
