/** Errors of the stack, in their own module so every part of `stack/` (and the CLI) can throw them. */
import { WardenError } from '../oauth/errors.js';

/** The stack could not start; the message says why and what to change. */
export class StackStartError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('stack_start', message, options);
  }
}

/**
 * A command asked for something that cannot be done as asked — a missing stack.json, a store
 * that cannot be administered from here, a flag that does not fit; the message says what to
 * change. The CLI exits 2 on it.
 */
export class UsageError extends WardenError {
  constructor(message: string) {
    super('usage', message);
  }
}
