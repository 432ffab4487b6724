import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

const PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEYLEN = 32;

/**
 * Hashes a user password with scrypt: `scrypt$N$r$p$salt$hash` (base64url parts).
 * Parameters are stored with the hash so they can be raised later without breaking old hashes.
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEYLEN, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** A hash of a random secret, to verify against when the account does not exist (equal timing). */
let dummyHash: Promise<string> | undefined;

/**
 * Verifies `secret` against a stored hash in constant time. With `stored` undefined (unknown user
 * or client) it still runs scrypt on a dummy hash, so timing does not reveal which names exist.
 */
export async function verifySecret(secret: string, stored: string | undefined): Promise<boolean> {
  const target = stored ?? (await (dummyHash ??= hashSecret(randomBytes(16).toString('hex'))));
  const parts = target.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isInteger(N) || N < 2 || N > 1 << 20 || !Number.isInteger(R) || R < 1 || R > 32 || !Number.isInteger(P) || P < 1 || P > 16) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== KEYLEN) return false;
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), KEYLEN, { N, r: R, p: P, maxmem: 256 * N * R + 1024 * 1024 });
  return timingSafeEqual(actual, expected) && stored !== undefined;
}

/** Shortest client secret accepted: client secrets must be high-entropy, not passwords. */
export const MIN_CLIENT_SECRET_LENGTH = 32;

/**
 * Hashes a client secret: `sha256$<base64url digest>`. Unlike passwords, client secrets are
 * machine-generated with ≥ 256 bits of entropy (configured ones must be ≥ 32 characters), so a
 * slow hash adds nothing against guessing and would cost ~50 ms of CPU on every token request.
 */
export function hashClientSecret(secret: string): string {
  if (secret.length < MIN_CLIENT_SECRET_LENGTH) {
    throw new TypeError(`client secrets must be at least ${MIN_CLIENT_SECRET_LENGTH} characters of random data (e.g. \`openssl rand -base64 32\`)`);
  }
  return `sha256$${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

const DUMMY_CLIENT_DIGEST = createHash('sha256').update(randomBytes(32)).digest();

/**
 * Verifies a client secret against its stored hash in constant time. Accepts `sha256$` hashes and,
 * for compatibility, scrypt ones. With `stored` undefined (unknown client) it still hashes and
 * compares, so timing does not reveal which client ids exist.
 */
export async function verifyClientSecret(secret: string, stored: string | undefined): Promise<boolean> {
  if (stored !== undefined && stored.startsWith('scrypt$')) return verifySecret(secret, stored);
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  let expected = DUMMY_CLIENT_DIGEST;
  if (stored !== undefined && stored.startsWith('sha256$')) {
    const decoded = Buffer.from(stored.slice(7), 'base64url');
    if (decoded.length === 32) expected = decoded;
  }
  return timingSafeEqual(actual, expected) && expected !== DUMMY_CLIENT_DIGEST;
}
