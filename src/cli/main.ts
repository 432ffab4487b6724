#!/usr/bin/env node
/**
 * The `warden` executable. Exit codes: 0 success (and after a graceful SIGINT/SIGTERM shutdown),
 * 1 failure (could not start; an operation was refused or failed, e.g. no running stack, an
 * unknown user), 2 usage or configuration error (an unknown command or flag, a missing argument,
 * an invalid configuration).
 * Failures print a message that says what to change — never a stack trace (WARDEN_DEBUG=1 for one).
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { redactString, StackStartError } from '../stack/index.js';
import { createProgram } from './program.js';
import { UsageError } from './errors.js';
import { HealthUsageError } from './health.js';
import { PolicyTestUsageError } from './policy-test.js';

// Distinct from 1 so scripts can tell "fix the config (or the command)" from "could not start".
const EXIT_CONFIG = 2;
const EXIT_USAGE = 2;

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  const debug = process.env['WARDEN_DEBUG'] === '1';
  if (error instanceof ConfigError) {
    process.stderr.write(`warden: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  // Commander already printed the problem (every command has exitOverride); --help and --version are 0.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  if (error instanceof HealthUsageError || error instanceof PolicyTestUsageError) {
    process.stderr.write(`warden: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const known = error instanceof StackStartError || error instanceof UsageError;
  // Driver errors may quote what they were given; never print a credential.
  const message = redactString(error instanceof Error ? error.message : String(error));
  process.stderr.write(`warden: ${known ? '' : 'unexpected error: '}${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
