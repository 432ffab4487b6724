/**
 * `warden policy test`: reads the configuration, the claims and the arguments, and prints the
 * decision the gateway would take with its reasons. Exit 0 allow, 1 deny, 2 usage or configuration.
 */
import { readFile } from 'node:fs/promises';
import { loadConfigFile } from '../config/load.js';
import { explainPolicyDecision, UsageError, type PolicyTestResult } from '../stack/index.js';

/** Options as commander parses them. */
export interface PolicyTestOptions {
  config: string;
  server: string;
  tool: string;
  claims: string;
  arguments?: string;
  at?: string;
}

/** A usage problem of `warden policy test` (exit 2). */
export class PolicyTestUsageError extends UsageError {
  override name = 'PolicyTestUsageError';
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PolicyTestUsageError(`cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PolicyTestUsageError(`the ${what} file ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Runs the command; usage problems throw {@link PolicyTestUsageError}, configuration ones `ConfigError`. */
export async function policyTestCommand(options: PolicyTestOptions): Promise<PolicyTestResult> {
  const config = await loadConfigFile(options.config);
  const claims = await readJson(options.claims, 'claims');
  const args = options.arguments === undefined ? undefined : await readJson(options.arguments, 'arguments');
  let now: Date | undefined;
  if (options.at !== undefined) {
    now = new Date(options.at);
    if (Number.isNaN(now.getTime())) throw new PolicyTestUsageError(`--at must be an RFC 3339 time such as 2026-12-04T09:30:00Z, got ${JSON.stringify(options.at)}`);
  }
  try {
    return explainPolicyDecision(config, { server: options.server, tool: options.tool, claims, ...(args === undefined ? {} : { arguments: args }), ...(now === undefined ? {} : { now }) });
  } catch (error) {
    if (error instanceof UsageError) throw new PolicyTestUsageError(error.message);
    throw error;
  }
}
