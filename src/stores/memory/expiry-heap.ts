/**
 * A binary min-heap of `(expiresAt, key)` pairs, kept in two parallel arrays so that pushing
 * allocates no per-entry object on the request path.
 *
 * The memory replay store only puts *out-of-order* entries here (a TTL shorter than one already
 * stored); with the usual single TTL the heap stays empty and costs nothing.
 */
export class ExpiryHeap {
  readonly #expiries: number[] = [];
  readonly #keys: string[] = [];

  /** Number of entries, including stale ones the owner has not popped yet. */
  get size(): number {
    return this.#expiries.length;
  }

  /** The smallest expiry, or `Infinity` when empty (so callers compare without a branch). */
  peekExpiry(): number {
    return this.#expiries[0] ?? Infinity;
  }

  /** The key paired with {@link ExpiryHeap.peekExpiry}, or `undefined` when empty. */
  peekKey(): string | undefined {
    return this.#keys[0];
  }

  /** Adds an entry in O(log n). */
  push(expiresAt: number, key: string): void {
    const expiries = this.#expiries;
    const keys = this.#keys;
    let index = expiries.length;
    expiries.push(expiresAt);
    keys.push(key);
    // Sift up by moving parents down into the hole, writing the new entry once at the end.
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentExpiry = expiries[parent] as number;
      if (parentExpiry <= expiresAt) break;
      expiries[index] = parentExpiry;
      keys[index] = keys[parent] as string;
      index = parent;
    }
    expiries[index] = expiresAt;
    keys[index] = key;
  }

  /** Removes the smallest entry in O(log n); a no-op when empty. */
  pop(): void {
    const expiries = this.#expiries;
    const keys = this.#keys;
    const lastExpiry = expiries.pop();
    const lastKey = keys.pop();
    const length = expiries.length;
    if (length === 0 || lastExpiry === undefined || lastKey === undefined) return;
    // Sift the former last entry down from the root, again moving children up into the hole.
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child =
        right < length && (expiries[right] as number) < (expiries[left] as number) ? right : left;
      const childExpiry = expiries[child] as number;
      if (childExpiry >= lastExpiry) break;
      expiries[index] = childExpiry;
      keys[index] = keys[child] as string;
      index = child;
    }
    expiries[index] = lastExpiry;
    keys[index] = lastKey;
  }

  /** Drops every entry. */
  clear(): void {
    this.#expiries.length = 0;
    this.#keys.length = 0;
  }
}
