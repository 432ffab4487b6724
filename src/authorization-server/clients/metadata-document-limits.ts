/**
 * What one instance allows itself when fetching Client ID Metadata Documents on behalf of
 * unauthenticated requests: a `client_id` is attacker-chosen, so without limits every
 * `/authorize` could make this server fetch (and wait on) any URL, again and again, or hammer one
 * host with distinct paths. Per instance, in memory: these limits protect this instance's sockets
 * and time, and the hosts it fetches from, so they need no shared store.
 */
import { hostRateKey } from './host-rate-key.js';

/** Entries each table keeps at most (oldest dropped first), so the limits cannot be made to grow without bound. */
const MAX_ENTRIES = 10_000;
const WINDOW_SECONDS = 60;

/** Why a fetch was not started: too many in flight, or too many for one host (`host`: its rate key, see `hostRateKey`). `retryAfterSeconds` ≥ 1. */
export type FetchRefusal = { reason: 'capacity'; retryAfterSeconds: number } | { reason: 'host-rate'; host: string; retryAfterSeconds: number };

/** Settings of {@link MetadataDocumentLimits}. */
export interface MetadataDocumentLimitSettings {
  failureCacheSeconds: number;
  maxConcurrentFetches: number;
  fetchesPerHostPerMinute: number;
}

/** Negative cache, concurrency cap and per-host rate of one authorization server's fetches. */
export class MetadataDocumentLimits {
  readonly #settings: MetadataDocumentLimitSettings;
  /** client id → second until which its last fetch's failure stands. */
  readonly #failures = new Map<string, number>();
  /** host rate key → the current minute's window start and fetch count. */
  readonly #hosts = new Map<string, { start: number; count: number }>();
  #inFlight = 0;

  constructor(settings: MetadataDocumentLimitSettings) {
    this.#settings = settings;
  }

  /** True while a failed fetch of `clientId` is remembered. */
  failedRecently(clientId: string, now: number): boolean {
    const until = this.#failures.get(clientId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#failures.delete(clientId);
    return false;
  }

  /** Remembers that fetching `clientId` failed. */
  recordFailure(clientId: string, now: number): void {
    this.#failures.delete(clientId);
    bounded(this.#failures).set(clientId, now + this.#settings.failureCacheSeconds);
  }

  /**
   * Takes a fetch slot for `host` (a URL's host, port included or not): a release function, or
   * why not. Hosts are counted by {@link hostRateKey} — every subdomain and port of one
   * registrable domain together, so wildcard DNS cannot multiply the budget. A granted fetch
   * counts against the minute whether it then succeeds or fails.
   */
  acquire(host: string, now: number): { release: () => void } | { refused: FetchRefusal } {
    if (this.#inFlight >= this.#settings.maxConcurrentFetches) return { refused: { reason: 'capacity', retryAfterSeconds: 1 } };
    const key = hostRateKey(host);
    let window = this.#hosts.get(key);
    if (window === undefined || window.start + WINDOW_SECONDS <= now) {
      this.#hosts.delete(key);
      window = { start: now, count: 0 };
      bounded(this.#hosts).set(key, window);
    }
    if (window.count >= this.#settings.fetchesPerHostPerMinute) {
      return { refused: { reason: 'host-rate', host: key, retryAfterSeconds: Math.max(1, window.start + WINDOW_SECONDS - now) } };
    }
    window.count += 1;
    this.#inFlight += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
      },
    };
  }

  /** Fetches in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }
}

/** `map`, after dropping its oldest entry if it is full (Map keeps insertion order). */
function bounded<K, V>(map: Map<K, V>): Map<K, V> {
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  return map;
}
