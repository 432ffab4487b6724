/**
 * Runs a stack until SIGINT/SIGTERM, then shuts it down gracefully and exits 0. Shared by
 * `warden serve` and `warden start`.
 */
import type { WardenConfig } from '../config/defaults.js';
import { createLogger, reloadServersOnChange, startStack, type RunningStack } from '../stack/index.js';

/**
 * Starts the stack and installs the signal handlers. With `configFile` (`warden serve`), the
 * servers it declares follow the file: re-read when it changes and on SIGHUP.
 */
export async function runStack(config: WardenConfig, stateDir: string, configFile?: { path: string; port?: number }): Promise<RunningStack> {
  const logger = createLogger();
  const stack = await startStack(config, { stateDir, logger });
  const stopReload = configFile === undefined ? undefined : reloadServersOnChange(stack, configFile.path, { logger, ...(configFile.port === undefined ? {} : { port: configFile.port }) });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now": skip the drain.
      logger.warn('forced exit', { signal });
      process.exit(1);
    }
    stopping = true;
    stopReload?.();
    logger.info('shutting down', { signal });
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return stack;
}
