/**
 * `warden audit <url>`: argument handling for the audit (src/audit does the work). Exit codes: 0
 * when no finding reaches `--fail-on`, 1 when one does or the audit could not run, 2 for a usage
 * error (a bad option value, an unreadable file).
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  startLoopbackCallback,
  type LoopbackCallback,
  AuditError,
  checkDefinitions,
  DEFAULT_BUDGET,
  DEFAULT_RATE,
  importProofKey,
  renderCheckList,
  renderHtml,
  renderJson,
  renderSarif,
  renderTerminal,
  runAudit,
  selectChecks,
  SEVERITIES,
  atLeast,
  type AuditOptions,
  type ProgressEvent,
  type Severity,
} from '../audit/index.js';

/** Options as commander parses them. */
export interface AuditCommandOptions {
  list?: boolean;
  token?: string;
  dpopKey?: string;
  secondToken?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  otherResource?: string;
  idToken?: string;
  probeTool?: string;
  signIn?: boolean;
  allowRefresh?: boolean;
  register?: boolean;
  rate?: string;
  maxRequests?: string;
  timeout?: string;
  allowOrigin?: string[];
  checks?: string;
  json?: string | boolean;
  sarif?: string;
  html?: string;
  failOn?: string;
  color?: boolean;
  verbose?: boolean;
}

/** Where the command writes; injectable for tests. */
export interface AuditIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout / stderr are terminals (colour, progress). */
  stdoutTty: boolean;
  stderrTty: boolean;
  env: NodeJS.ProcessEnv;
}

/** A bad option value: exit code 2. */
class AuditUsageError extends Error {}

/** Runs the command and returns its exit code. */
export async function auditCommand(url: string | undefined, options: AuditCommandOptions, io: AuditIo): Promise<number> {
  const color = options.color !== false && io.stdoutTty && io.env.NO_COLOR === undefined;
  if (options.list === true) {
    io.stdout(renderCheckList(checkDefinitions(), { color }));
    return 0;
  }
  let callback: LoopbackCallback | undefined;
  try {
    if (url === undefined) throw new AuditUsageError('missing the URL of the MCP endpoint to audit (warden audit <url>), or --list');
    const failOn = parseFailOn(options.failOn);
    const auditOptions = await buildOptions(url, options, io);
    if (options.signIn === true) {
      callback = await startLoopbackCallback({ timeoutSeconds: 300 });
      const listener = callback;
      auditOptions.signIn = {
        redirectUri: listener.redirectUrl,
        async authorize(authorizationUrl) {
          io.stderr(`\nSign in to continue the audit: open this URL in a browser (waiting up to 5 minutes):\n\n  ${authorizationUrl.href}\n\n`);
          return listener.next({ state: authorizationUrl.searchParams.get('state') });
        },
      };
    }
    if (io.stderrTty) auditOptions.onProgress = progress(io);
    const report = await runAudit(auditOptions);
    if (io.stderrTty) io.stderr('\r\x1b[2K');
    const definitions = checkDefinitions();
    if (options.sarif !== undefined) await writeFile(options.sarif, renderSarif(report, definitions));
    if (options.html !== undefined) await writeFile(options.html, renderHtml(report));
    if (typeof options.json === 'string') await writeFile(options.json, renderJson(report));
    if (options.json === true) io.stdout(renderJson(report));
    else io.stdout(renderTerminal(report, { color, verbose: options.verbose === true }));
    return failOn !== undefined && report.findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0;
  } catch (error) {
    if (error instanceof AuditUsageError) {
      io.stderr(`warden audit: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AuditError) {
      io.stderr(`warden audit: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await callback?.close();
  }
}

function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined || value === 'none') return undefined;
  if (!(SEVERITIES as readonly string[]).includes(value)) throw new AuditUsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}, none`);
  return value as Severity;
}

function positive(value: string | undefined, name: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new AuditUsageError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

/** A credential option: the value, `@file` to read it from a file, or the environment variable. */
async function secret(value: string | undefined, name: string, envName: string | undefined, io: AuditIo): Promise<string | undefined> {
  const raw = value ?? (envName === undefined ? undefined : io.env[envName]);
  if (raw === undefined || raw === '') return undefined;
  if (!raw.startsWith('@')) return raw.trim();
  try {
    return (await readFile(raw.slice(1), 'utf8')).trim();
  } catch (error) {
    throw new AuditUsageError(`${name}: cannot read ${raw.slice(1)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function buildOptions(url: string, options: AuditCommandOptions, io: AuditIo): Promise<AuditOptions> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new AuditUsageError(`"${url}" is not an http(s) URL`);
  const audit: AuditOptions = {
    url,
    rate: positive(options.rate, '--rate', DEFAULT_RATE, false),
    maxRequests: positive(options.maxRequests, '--max-requests', DEFAULT_BUDGET, true),
    timeoutMs: positive(options.timeout, '--timeout', 10_000, true),
    register: options.register !== false,
    allowRefresh: options.allowRefresh === true,
  };
  const token = await secret(options.token, '--token', 'WARDEN_AUDIT_TOKEN', io);
  const secondToken = await secret(options.secondToken, '--second-token', undefined, io);
  const clientSecret = await secret(options.clientSecret, '--client-secret', 'WARDEN_AUDIT_CLIENT_SECRET', io);
  const idToken = await secret(options.idToken, '--id-token', undefined, io);
  if (token !== undefined) audit.token = token;
  if (secondToken !== undefined) audit.secondToken = secondToken;
  if (clientSecret !== undefined) audit.clientSecret = clientSecret;
  if (idToken !== undefined) audit.idToken = idToken;
  if (options.dpopKey !== undefined) {
    let text: string;
    try {
      text = await readFile(options.dpopKey, 'utf8');
    } catch (error) {
      throw new AuditUsageError(`--dpop-key: cannot read ${options.dpopKey} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      audit.dpopKey = importProofKey(JSON.parse(text) as unknown);
    } catch (error) {
      throw new AuditUsageError(`--dpop-key: ${error instanceof SyntaxError ? 'the file is not JSON' : (error as Error).message}`);
    }
  }
  if (clientSecret !== undefined && options.clientId === undefined) throw new AuditUsageError('--client-secret needs --client-id');
  for (const [name, value] of [['--redirect-uri', options.redirectUri], ['--other-resource', options.otherResource]] as const) {
    if (value !== undefined && !URL.canParse(value)) throw new AuditUsageError(`${name} must be an absolute URL`);
  }
  if (options.clientId !== undefined) audit.clientId = options.clientId;
  if (options.redirectUri !== undefined) audit.redirectUri = options.redirectUri;
  if (options.otherResource !== undefined) audit.otherResource = options.otherResource;
  if (options.probeTool !== undefined) audit.probeTool = options.probeTool;
  if (options.allowOrigin !== undefined) {
    for (const origin of options.allowOrigin) if (!URL.canParse(origin)) throw new AuditUsageError(`--allow-origin ${origin} is not a URL`);
    audit.allowOrigins = options.allowOrigin;
  }
  if (options.checks !== undefined) {
    audit.checks = options.checks.split(',').map((c) => c.trim()).filter(Boolean);
    try {
      selectChecks(audit.checks);
    } catch (error) {
      throw new AuditUsageError((error as Error).message);
    }
  }
  return audit;
}

function progress(io: AuditIo): (event: ProgressEvent) => void {
  return (event) => {
    if (event.phase !== 'start') return;
    const line = `[${event.index + 1}/${event.total}] ${event.id} · ${event.requests} requests`;
    io.stderr(`\r\x1b[2K${line.slice(0, 100)}`);
  };
}
