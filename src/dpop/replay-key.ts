import { hash } from 'node:crypto';

/**
 * The replay-store key of a proof: the first 128 bits of SHA-256(jkt NUL jti), base64url (22
 * characters). Keyed with the thumbprint so one client cannot burn another's `jti`s (RFC 9449
 * §11.1); hashed so every entry is small and fixed-size whatever the client sent — a live proof
 * costs ~160 bytes in the memory store instead of ~600 with the raw key.
 */
export function replayKey(jkt: string, jti: string): string {
  // One-shot `hash` of the same UTF-8 bytes: no Hash object per request.
  return hash('sha256', `${jkt}\0${jti}`, 'base64url').slice(0, 22);
}
