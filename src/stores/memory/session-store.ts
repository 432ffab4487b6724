/**
 * {@link SessionStore} in this process's memory: for one instance (or tests). Bounded: at
 * capacity it first drops expired entries, then refuses new bindings (503) rather than evict a
 * live one, which would let its session be taken over or lost; and one owner may hold at most
 * `maxPerOwner` live bindings (429), so one principal cannot fill it for everyone.
 */
import { DEFAULTS } from '../../oauth/defaults.js';
import { SessionLimitError, type SessionStore, StoreUnavailableError } from '../contracts.js';

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** Most live bindings held. Default 100,000. */
  capacity?: number;
  /** Most live bindings one owner holds; beyond, `bind` rejects with {@link SessionLimitError}. Default 1,000. */
  maxPerOwner?: number;
  /** Clock in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, { owner: string; expiresAt: number }>();
  readonly #capacity: number;
  readonly #maxPerOwner: number;
  readonly #perOwner = new Map<string, number>();
  readonly #now: () => number;
  #closed = false;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#capacity = options.capacity ?? DEFAULTS.stores.memorySessionCapacity;
    if (!Number.isInteger(this.#capacity) || this.#capacity <= 0) throw new TypeError('MemorySessionStore capacity must be a positive integer');
    this.#maxPerOwner = options.maxPerOwner ?? DEFAULTS.stores.memorySessionsPerOwner;
    if (!Number.isInteger(this.#maxPerOwner) || this.#maxPerOwner <= 0) throw new TypeError('MemorySessionStore maxPerOwner must be a positive integer');
    this.#now = options.now ?? Date.now;
  }

  async bind(key: string, owner: string, ttlSeconds: number): Promise<boolean> {
    this.#open();
    const now = this.#now();
    const current = this.#live(key, now);
    if (current !== undefined && current.owner !== owner) return false;
    if (current === undefined) {
      if ((this.#perOwner.get(owner) ?? 0) >= this.#maxPerOwner) {
        this.#sweep(now);
        if ((this.#perOwner.get(owner) ?? 0) >= this.#maxPerOwner) throw new SessionLimitError('this principal holds too many open sessions');
      }
      if (this.#entries.size >= this.#capacity) {
        this.#sweep(now);
        if (this.#entries.size >= this.#capacity) throw new StoreUnavailableError('session store is full');
      }
      this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    }
    this.#entries.set(key, { owner, expiresAt: now + ttlSeconds * 1000 });
    return true;
  }

  async owner(key: string, ttlSeconds: number): Promise<string | undefined> {
    this.#open();
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry === undefined) return undefined;
    entry.expiresAt = now + ttlSeconds * 1000;
    return entry.owner;
  }

  async forget(key: string): Promise<void> {
    this.#open();
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(key, entry.owner);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    this.#perOwner.clear();
  }

  #open(): void {
    if (this.#closed) throw new StoreUnavailableError('session store is closed');
  }

  #live(key: string, now: number): { owner: string; expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.#remove(key, entry.owner);
    return undefined;
  }

  #remove(key: string, owner: string): void {
    this.#entries.delete(key);
    const count = (this.#perOwner.get(owner) ?? 1) - 1;
    if (count <= 0) this.#perOwner.delete(owner);
    else this.#perOwner.set(owner, count);
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#remove(key, entry.owner);
  }
}
