import { WardenError } from '../oauth/errors.js';
/**
 * A configuration that cannot be used. Its message lists every problem, one per line, each
 * starting with the key path (`resources[0].dpop: ...`) so the operator knows what to change.
 * Never carries a secret value: validators describe the problem, not the offending secret.
 */
export class ConfigError extends WardenError {
  /** Each problem, `"<key path>: <what is wrong>"`. */
  readonly issues: readonly string[];
  /** The file (or `"built-in configuration"`) the problems were found in. */
  readonly source: string;

  constructor(source: string, issues: readonly string[]) {
    const list = issues.map((issue) => `  - ${issue}`).join('\n');
    super('config_invalid', `invalid configuration (${source}):\n${list}`);
    this.source = source;
    this.issues = Object.freeze([...issues]);
  }
}
