/** Errors of the stack, in their own module so every part of `server/` can throw them. */
import { WardenError } from '../oauth/errors.js';

/** The stack could not start; the message says why and what to change. */
export class StackStartError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('stack_start', message, options);
  }
}
