/** Errors of the `warden` commands. */

/** A command failed for a reason the user can fix; the message says how (exit code 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}
