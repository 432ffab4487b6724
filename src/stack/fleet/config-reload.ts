/**
 * Re-reads the configuration file when it changes (watched) or on `SIGHUP`, and applies its
 * servers (`resources`) to the running registry — checked whole first: a file that does not load,
 * or servers that do not pass, change nothing and are logged with every key path. Keys other
 * than `resources` take a restart; a reload that changes them says so in the log.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../../config/errors.js';
import { loadConfigFile } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { DEFAULTS } from '../../oauth/defaults.js';
import type { RunningStack } from '../stack.js';

/** Options of {@link reloadServersOnChange}. */
export interface ConfigReloadOptions {
  /** `--port`, as the file was first loaded with. */
  port?: number;
  logger: Logger;
  /** Watch the file (default true). */
  watch?: boolean;
  /** Reload on SIGHUP (default true). */
  sighup?: boolean;
  /** Told the outcome of every reload (tests). */
  onReload?: (outcome: ReloadOutcome) => void;
}

/** What one reload did. */
export type ReloadOutcome =
  | { ok: true; ignored: readonly string[] }
  | { ok: false; problems: readonly string[] };

/**
 * Starts watching `file` (its directory, so editors that replace the file are seen) and listening
 * for SIGHUP. Returns a function that stops both.
 */
export function reloadServersOnChange(stack: RunningStack, file: string, options: ConfigReloadOptions): () => void {
  const { logger } = options;
  const path = resolve(file);
  let running: Promise<void> | undefined;
  let again = false;
  const reload = async (trigger: string): Promise<void> => {
    let outcome: ReloadOutcome;
    try {
      const config = await loadConfigFile(path, options.port === undefined ? {} : { port: options.port });
      const result = stack.reloadServers(config);
      outcome = result.ok ? { ok: true, ignored: result.ignored } : { ok: false, problems: result.problems.map((p) => `server "${result.name}": ${p.path}: ${p.message}`) };
    } catch (error) {
      outcome = { ok: false, problems: error instanceof ConfigError ? [...error.issues] : [(error as Error).message] };
    }
    if (outcome.ok) {
      logger.info('configuration reloaded', { trigger, servers: stack.registry.current().servers.length });
      if (outcome.ignored.length > 0) logger.warn('configuration keys changed that apply only after a restart', { keys: outcome.ignored });
    } else {
      logger.error('configuration reload refused: the running servers stay', { trigger, problems: outcome.problems });
    }
    options.onReload?.(outcome);
  };
  // One reload at a time; a change during one runs one more after it.
  const schedule = (trigger: string) => {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = reload(trigger).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        schedule(trigger);
      }
    });
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (options.watch !== false) {
    try {
      watcher = watch(dirname(path), (_event, name) => {
        if (name !== null && name !== basename(path)) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => schedule('file'), DEFAULTS.fleet.configWatchDebounceMs);
      });
      watcher.on('error', (error) => logger.warn('configuration file watch failed; SIGHUP still reloads', { error }));
    } catch (error) {
      logger.warn('cannot watch the configuration file; SIGHUP still reloads', { error });
    }
  }
  const onHup = () => schedule('SIGHUP');
  if (options.sighup !== false) process.on('SIGHUP', onHup);
  return () => {
    clearTimeout(debounce);
    watcher?.close();
    process.off('SIGHUP', onHup);
  };
}
