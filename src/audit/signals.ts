/**
 * How a check says it cannot reach a verdict: thrown, so a check reads as a list of steps and any
 * step can stop it.
 */

/** The check does not apply or lacks an input; the reason says which (e.g. "needs --token"). */
export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
}

/** The check ran but the server's answers do not allow a verdict (e.g. the positive control failed). */
export class CheckInconclusive extends Error {
  override name = 'CheckInconclusive';
}

/** Throws {@link CheckSkipped}. */
export function skip(reason: string): never {
  throw new CheckSkipped(reason);
}

/** Throws {@link CheckInconclusive}. */
export function inconclusive(reason: string): never {
  throw new CheckInconclusive(reason);
}
