/**
 * User codes of the device grant (RFC 8628 §6.1): 8 characters from a 20-letter alphabet with
 * no vowels (no words) and no look-alikes, shown as `BCDF-GHJK`, read back case-insensitively
 * with dashes and spaces ignored. 20^8 ≈ 2^34.6 codes: brute force is left to the throttles.
 */
import { randomInt } from 'node:crypto';
import type { AsContext } from '../context.js';

/** RFC 8628 §6.1's base-20 alphabet. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A fresh user code in its display form (`XXXX-XXXX`), each character uniform (`randomInt` is unbiased). */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i += 1) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What the user typed as a canonical code — upper case, dashes and whitespace dropped — or
 * undefined when it cannot be a user code (wrong length or a character outside the alphabet).
 */
export function normalizeUserCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/**
 * The store key of a canonical user code: an HMAC under the server secret, so the store (a
 * backup, a replica) holds nothing a 2^35 search could turn back into live codes.
 */
export function userCodeHash(ctx: AsContext, canonical: string): string {
  return ctx.hmac('device-user-code', canonical);
}
