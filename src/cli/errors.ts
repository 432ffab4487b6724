/** The CLI's errors: a usage error (exit 2) is the stack's own. */
export { UsageError } from '../stack/index.js';
