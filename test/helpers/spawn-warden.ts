/**
 * Runs `warden serve` as a child process, the way an operator would, and waits until it says it
 * is listening by writing `<state-dir>/stack.json`.
 *
 * The child gets its own temporary directory (config file, state dir, working directory), an
 * environment without `WARDEN_*` overrides (a developer's shell must not change what a test
 * runs), and its stdout/stderr are kept so a failed start-up can say why.
 *
 * @example
 * ```ts
 * const warden = await spawnWarden({ port, config: { publicUrl: `http://127.0.0.1:${port}`, resources: [...] } });
 * afterAll(() => warden.stop());
 * const mcp = warden.resource('demo').url;
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `dist/cli/main.js` of this checkout (built by `npm test` / `npx tsc -p tsconfig.build.json`). */
export const WARDEN_CLI = resolve(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)));

/** One protected resource, as `stack.json` lists it. */
export interface StackResource {
  name: string;
  /** Canonical URI: what clients connect to and what tokens' `aud` names. */
  url: string;
  /** RFC 9728 protected resource metadata URL. */
  metadataUrl: string;
}

/** `<state-dir>/stack.json`, the contract between `warden serve` and tests or tools. */
export interface WardenStack {
  issuer: string;
  resources: StackResource[];
  clients: Array<{ client_id: string; client_secret?: string; grant_types: string[] }>;
  users: Array<{ username: string; password: string }>;
}

export interface SpawnWardenOptions {
  /** `serve` (default) runs `config`; `start` runs the built-in stack and ignores `config`. */
  command?: 'serve' | 'start';
  /** The configuration, written to a JSON file and passed with `--config` (serve). */
  config?: Record<string, unknown>;
  /** `--port`. Pick one with `freePort()` when `publicUrl` must name it. */
  port: number;
  /** How long to wait for `stack.json`. Default 15 s. */
  startTimeoutMs?: number;
  /** Extra environment for the child (after `WARDEN_*` variables of this process are removed). */
  env?: Record<string, string>;
  /** CLI entry point. Default: `WARDEN_E2E_CLI`, else this checkout's `dist/cli/main.js`. */
  cli?: string;
}

export interface SpawnedWarden {
  readonly stack: WardenStack;
  /** `--state-dir` of the child (holds stack.json), for other commands run against it. */
  readonly stateDir: string;
  readonly pid: number;
  /** The resource named `name` in `stack.json`; throws (with the stack) when it is missing. */
  resource(name: string): StackResource;
  /** What the child wrote to stderr so far (the last MiB). */
  stderr(): string;
  /** What the child wrote to stdout so far (the last MiB). */
  stdout(): string;
  /** Both streams, labelled: for assertion messages. */
  diagnostics(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); removes the temporary directory. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_CAP = 1024 * 1024;
const POLL_MS = 50;

/**
 * Starts `warden serve --config <file> --port <port> --state-dir <dir>` (or `warden start --port
 * <port> --state-dir <dir>`) and waits for `stack.json`.
 */
export async function spawnWarden(options: SpawnWardenOptions): Promise<SpawnedWarden> {
  const cli = options.cli ?? process.env.WARDEN_E2E_CLI ?? WARDEN_CLI;
  if (!existsSync(cli)) {
    throw new Error(`spawnWarden: ${cli} does not exist. Build first: \`npx tsc -p tsconfig.build.json\` (\`npm test\` does it).`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'warden-e2e-'));
  const configFile = join(dir, 'warden.json');
  const stateDir = join(dir, 'state');
  const stackFile = join(stateDir, 'stack.json');
  const command = options.command ?? 'serve';
  if (command === 'serve') {
    if (options.config === undefined) throw new TypeError('spawnWarden: serve needs a config');
    await writeFile(configFile, JSON.stringify(options.config, null, 2));
  }

  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('WARDEN_')) env[name] = value;
  }
  Object.assign(env, options.env);

  const args =
    command === 'serve'
      ? [cli, 'serve', '--config', configFile, '--port', String(options.port), '--state-dir', stateDir]
      : [cli, 'start', '--port', String(options.port), '--state-dir', stateDir];
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    out[stream] = (out[stream] + chunk.toString('utf8')).slice(-OUTPUT_CAP);
  };
  child.stdout?.on('data', keep('stdout'));
  child.stderr?.on('data', keep('stderr'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const diagnostics = () =>
    `command: node ${args.join(' ')}\n--- child stderr ---\n${out.stderr || '(empty)'}\n--- child stdout ---\n${out.stdout || '(empty)'}`;

  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopped ??= (async () => {
      await terminate(child, exited, graceMs);
      child.stdout?.destroy();
      child.stderr?.destroy();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  let stack: WardenStack | undefined;
  try {
    while (stack === undefined) {
      if (spawnError !== undefined) throw new Error(`spawnWarden: could not start the child: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`spawnWarden: warden exited before writing ${stackFile} (code ${child.exitCode}, signal ${child.signalCode})`);
      }
      stack = await readStack(stackFile);
      if (stack !== undefined) break;
      if (Date.now() > deadline) throw new Error(`spawnWarden: no ${stackFile} after ${options.startTimeoutMs ?? 15_000} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } catch (error) {
    // Let the last output arrive before quoting it.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
    const message = `${(error as Error).message}\n${diagnostics()}`;
    await stop();
    throw new Error(message);
  }

  const ready = stack;
  return {
    stack: ready,
    stateDir,
    pid: child.pid ?? -1,
    resource(name) {
      const found = ready.resources.find((r) => r.name === name);
      if (found === undefined) throw new Error(`stack.json has no resource ${JSON.stringify(name)}: ${JSON.stringify(ready)}\n${diagnostics()}`);
      return found;
    },
    stderr: () => out.stderr,
    stdout: () => out.stdout,
    diagnostics,
    stop,
  };
}

/** The parsed stack file, or undefined while it is absent or half-written. */
async function readStack(file: string): Promise<WardenStack | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as WardenStack;
    return Array.isArray(parsed.resources) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function terminate(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceful = await Promise.race([
    exited.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}
