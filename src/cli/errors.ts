/** Errors of the `warden` commands. */
import { WardenError } from '../oauth/errors.js';

/** A command failed for a reason the user can fix; the message says how (exit code 1). */
export class UsageError extends WardenError {
  constructor(message: string) {
    super('usage', message);
  }
}
