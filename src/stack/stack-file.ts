/**
 * `<stateDir>/stack.json`: what a running stack offers, for tests and outside tools to drive it.
 * Demo credentials only — never a signing key or a secret of a real client.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './errors.js';

/** File name inside the state directory. */
export const STACK_FILE = 'stack.json';

/** Contents of `stack.json` (the DESIGN.md contract). */
export interface StackInfo {
  issuer: string;
  resources: Array<{ name: string; url: string; metadataUrl: string }>;
  clients: Array<{ client_id: string; client_secret?: string; grant_types: string[] }>;
  users: Array<{ username: string; password: string }>;
}

/**
 * Writes `stack.json` atomically (temp file + rename), so a reader polling for it never sees a
 * partial document.
 */
export async function writeStackFile(stateDir: string, info: StackInfo): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = join(stateDir, STACK_FILE);
  const temp = join(stateDir, `.${STACK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    // 0600: once the authorization server lands this file carries demo client secrets.
    await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return target;
}

/** Removes `stack.json` on shutdown so pollers do not mistake a stopped stack for a running one. */
export async function removeStackFile(stateDir: string): Promise<void> {
  await unlink(join(stateDir, STACK_FILE)).catch(() => undefined);
}

/** Reads `<stateDir>/stack.json` of a running stack; a usage error (exit 2) when there is none or it is unreadable. */
export async function readStackInfo(stateDir: string): Promise<StackInfo> {
  const file = join(stateDir, STACK_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`no running stack found in ${stateDir} (no ${STACK_FILE}): start one with "warden start --state-dir ${stateDir}"`);
    }
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as StackInfo;
  } catch {
    throw new UsageError(`${file} is not valid JSON: is another program writing it?`);
  }
}

