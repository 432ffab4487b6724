import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accessTokenHash } from '../jose/thumbprint.js';
import { replayKey } from './replay-key.js';

// The one-shot hashes must give the bytes the Hash-object form gave: replay keys already in a shared
// Redis and `ath` values signed by clients stay valid across an upgrade.
describe('replay key and ath — the same digests as before', () => {
  it('RFC 9449 §11.1: replayKey is the first 22 base64url characters of SHA-256(jkt NUL jti), UTF-8', () => {
    for (const [jkt, jti] of [['0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', 'e1j3V_bKic8-LAEB'], ['jkt', 'jti-ü-😀']]) {
      const expected = createHash('sha256').update(jkt as string).update('\0').update(jti as string).digest('base64url').slice(0, 22);
      expect(replayKey(jkt as string, jti as string)).toBe(expected);
    }
  });

  it('RFC 9449 §4.2: ath is base64url(SHA-256(ASCII(token))) — the RFC example, and a non-ASCII string as before', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    const odd = 'tøken-é';
    expect(accessTokenHash(odd)).toBe(createHash('sha256').update(odd, 'ascii').digest('base64url'));
  });
});
