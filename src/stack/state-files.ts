/**
 * Small private files in the state directory that make a stack survive restarts: the server
 * secret and the demo credentials. Each is created once (exclusively, mode 0600, so two processes
 * starting together agree on one value) and then only read.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '../oauth/errors.js';

/** File of the generated server secret (HMACs of refresh successors, CSRF, sessions, nonces). */
export const SECRET_FILE = 'secret';

/** File of the demo credentials (plaintext: they are printed and put in `stack.json` anyway). */
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.json';

/** Shortest server secret accepted (the authorization server needs at least 32 bytes). */
const MIN_SECRET_LENGTH = 32;

/** A state file that exists but cannot be used; the message says which file and what to do. */
export class StateFileError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('state_file', message, options);
  }
}

/** A random URL-safe string of `bytes` random bytes. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Writes `contents` to `file` only if it does not exist yet; returns what the file holds
 * afterwards (ours, or the one another process wrote first) and whether we wrote it.
 */
async function createOnce(stateDir: string, name: string, contents: string): Promise<{ text: string; created: boolean }> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, name);
  try {
    await writeFile(file, contents, { mode: 0o600, flag: 'wx' });
    return { text: contents, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { text: await readFile(file, 'utf8'), created: false };
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The server secret kept in `<stateDir>/secret`: generated on first use (48 random bytes,
 * base64url, mode 0600) so sessions, CSRF tokens and refresh-token successors stay valid across
 * restarts.
 *
 * @throws {StateFileError} when the file exists but is too short to be a secret.
 */
export async function loadOrCreateSecret(stateDir: string): Promise<string> {
  const file = join(stateDir, SECRET_FILE);
  const secret = ((await readIfPresent(file)) ?? (await createOnce(stateDir, SECRET_FILE, `${randomToken(48)}\n`)).text).trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new StateFileError(
      `${file} holds fewer than ${MIN_SECRET_LENGTH} characters: delete it to generate a new secret (this signs everyone out and ends every refresh token), or set authorizationServer.secret / WARDEN_SECRET`,
    );
  }
  return secret;
}

/** The demo user's and the `demo-service` client's credentials. */
export interface DemoCredentials {
  username: string;
  password: string;
  serviceClientSecret: string;
}

function isDemoCredentials(value: unknown): value is DemoCredentials {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.username === 'string' &&
    typeof v.password === 'string' &&
    v.password.length >= 8 &&
    typeof v.serviceClientSecret === 'string' &&
    v.serviceClientSecret.length >= 32
  );
}

/** Fresh demo credentials: user `demo`, random password and client secret. */
export function generateDemoCredentials(): DemoCredentials {
  return { username: 'demo', password: randomToken(18), serviceClientSecret: randomToken(32) };
}

/**
 * The demo credentials of `<stateDir>/demo-credentials.json`, generated on first run, so the
 * demo password and client secret stay the same across restarts. `created` says this call
 * generated them (the demo user's password is then set to match, even if the user exists).
 *
 * @throws {StateFileError} when the file exists but is not a demo-credentials document.
 */
export async function loadOrCreateDemoCredentials(stateDir: string): Promise<{ credentials: DemoCredentials; created: boolean }> {
  const file = join(stateDir, DEMO_CREDENTIALS_FILE);
  const existing = await readIfPresent(file);
  const { text, created } =
    existing === undefined
      ? await createOnce(stateDir, DEMO_CREDENTIALS_FILE, `${JSON.stringify(generateDemoCredentials(), null, 2)}\n`)
      : { text: existing, created: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isDemoCredentials(parsed)) {
    throw new StateFileError(`${file} is not a demo-credentials file Warden wrote: delete it to create new demo credentials`);
  }
  return { credentials: { username: parsed.username, password: parsed.password, serviceClientSecret: parsed.serviceClientSecret }, created };
}
