/**
 * Whether a language toolchain an upstream needs is installed. Missing locally, the suites that
 * need it are skipped with a note saying so; under CI they run, and fail saying why — the same
 * rule as `test/helpers/services.ts` applies to Redis and PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { isCi } from '../helpers/services.js';

export interface Toolchain {
  command: string;
  /** First line of its version output, when it ran. */
  version: string | undefined;
  available: boolean;
  /** True when suites needing it must be skipped (missing, and not under CI). */
  skip: boolean;
  /** Suffix for suite titles explaining a skip; empty when they run. */
  note: string;
}

/** Runs `command versionArgs` once; prints a note when suites will be skipped. */
export function findToolchain(command: string, versionArgs: string[]): Toolchain {
  const probe = spawnSync(command, versionArgs, { encoding: 'utf8', timeout: 10_000 });
  const output = `${probe.stdout ?? ''}${probe.stderr ?? ''}`.trim();
  const available = probe.error === undefined && probe.status === 0;
  if (available) return { command, version: output.split('\n')[0], available, skip: false, note: '' };
  const why = probe.error !== undefined ? `${command} not found on PATH` : `\`${command} ${versionArgs.join(' ')}\` failed`;
  if (isCi()) return { command, version: undefined, available, skip: false, note: '' };
  console.info(`[warden tests] suites needing ${command} skipped: ${why} (under CI this fails instead).`);
  return { command, version: undefined, available, skip: true, note: ` (skipped: ${why})` };
}

/** Throws, saying why, when the toolchain is missing (call it first in a suite that needs it). */
export function requireToolchain(toolchain: Toolchain): void {
  if (!toolchain.available) {
    throw new Error(`${toolchain.command} is not available${isCi() ? ' (CI is set, so this fails rather than skips)' : ''}`);
  }
}
