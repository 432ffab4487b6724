/**
 * A cap on password hashing (scrypt) in flight on this instance. Each check costs ~50 ms of a
 * libuv worker thread and 16 MiB of memory, so an attacker posting sign-in forms (or client
 * secrets stored as scrypt hashes) could otherwise queue unbounded work and memory. Beyond the
 * cap a request is refused at once — 503 with `Retry-After` — never queued.
 */

/** Seconds a refused client is asked to wait: checks take ~50 ms each, so slots free up fast. */
export const PASSWORD_CHECK_RETRY_AFTER_SECONDS = 1;

/** Counts password checks in flight; refuses beyond `max`. */
export class PasswordCheckLimiter {
  readonly max: number;
  #inFlight = 0;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('PasswordCheckLimiter: max must be a whole number ≥ 1');
    this.max = max;
  }

  /** Checks in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Takes a slot: returns its release function (idempotent), or undefined when `max` checks are
   * already in flight.
   */
  tryAcquire(): (() => void) | undefined {
    if (this.#inFlight >= this.max) return undefined;
    this.#inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= 1;
    };
  }
}
