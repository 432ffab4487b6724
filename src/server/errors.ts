/** Errors of the stack, in their own module so every part of `server/` can throw them. */

/** The stack could not start; the message says why and what to change. */
export class StackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackStartError';
  }
}
