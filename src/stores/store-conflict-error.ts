/**
 * A write collided with what the store already holds: a second record under a key that must be
 * unique (code hash, grant id, refresh-token hash, key id), or a second `current` / `next`
 * signing key. Nothing was written. Distinct from `StoreUnavailableError` (retry later) and from
 * `TypeError` (a caller bug): a conflict is an answer, e.g. another instance won a bootstrap race.
 */
export class StoreConflictError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreConflictError';
  }
}
