/**
 * A write collided with what the store already holds: a second record under a key that must be
 * unique (code hash, grant id, refresh-token hash, key id), or a second `current` / `next`
 * signing key. Nothing was written. Distinct from `StoreUnavailableError` (retry later) and from
 * `TypeError` (a caller bug): a conflict is an answer, e.g. another instance won a bootstrap race.
 */
import { WardenError } from '../oauth/errors.js';
export class StoreConflictError extends WardenError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('store_conflict', message, options);
  }
}
