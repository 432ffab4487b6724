/**
 * The development issuer's signing key: one ES256 key pair, generated on first run and kept in
 * the state directory so tokens minted by `warden token` verify against a running stack.
 * The private key never leaves the file (mode 0600) and is never printed or logged.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { PublicJwk } from '../resource-server/types.js';

/** File name of the key inside the state directory. */
export const ISSUER_KEY_FILE = 'issuer-key.json';

/** A loaded issuer key. */
export interface DevIssuerKey {
  /** RFC 7638 thumbprint of the public key: stable across restarts. */
  readonly kid: string;
  readonly alg: 'ES256';
  readonly privateKey: CryptoKey;
  /** Public JWK with `kid`, `alg` and `use`, as published in the JWKS. */
  readonly publicJwk: Readonly<PublicJwk>;
}

interface KeyFile {
  alg: 'ES256';
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

async function fromPrivateJwk(privateJwk: JWK): Promise<DevIssuerKey> {
  const { kty, crv, x, y } = privateJwk;
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y || !privateJwk.d) throw new Error('issuer key file does not hold a P-256 private key');
  const kid = await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
  const privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
  const publicJwk = Object.freeze({ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' });
  return Object.freeze({ kid, alg: 'ES256' as const, privateKey, publicJwk });
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return exportJWK(privateKey);
}

/** A key that lives only in this process (in-process stacks without a state directory). */
export async function generateIssuerKey(): Promise<DevIssuerKey> {
  return fromPrivateJwk(await newPrivateJwk());
}

/** Reads the key of `stateDir`; undefined when none was created yet. */
export async function readIssuerKey(stateDir: string): Promise<DevIssuerKey | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, ISSUER_KEY_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch {
    throw new Error(`${join(stateDir, ISSUER_KEY_FILE)} is not valid JSON: delete it to generate a new key`);
  }
  return fromPrivateJwk(file.privateJwk);
}

/**
 * Loads the key of `stateDir`, creating it on first run. Safe when several processes start at
 * once: the file appears atomically (hard link of a complete temp file, which fails if another
 * process got there first) and every process ends up with the same key.
 */
export async function loadOrCreateIssuerKey(stateDir: string): Promise<DevIssuerKey> {
  const existing = await readIssuerKey(stateDir);
  if (existing) return existing;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const privateJwk = await newPrivateJwk();
  const key = await fromPrivateJwk(privateJwk);
  const file: KeyFile = { alg: 'ES256', kid: key.kid, createdAt: new Date().toISOString(), privateJwk };
  const target = join(stateDir, ISSUER_KEY_FILE);
  const temp = join(stateDir, `.${ISSUER_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process won the race: use its key so both sign with the same one.
    const winner = await readIssuerKey(stateDir);
    if (!winner) throw error;
    return winner;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return key;
}

/** The public JWKS of `key` (RFC 7517 §5), as served at `/.well-known/jwks.json`. */
export function issuerJwks(key: DevIssuerKey): { keys: readonly PublicJwk[] } {
  return { keys: [key.publicJwk] };
}
