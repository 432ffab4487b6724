import { createPublicKey, createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WardenError } from '../oauth/errors.js';
import { decodeCompactJws, JwsFormatError, verifyJwsSignature } from './compact-jws.js';

interface Vectors {
  jws: { source: string; alg: string; jws: string; publicJwk: Record<string, string>; header: Record<string, unknown>; payload?: Record<string, unknown> }[];
  refusedJws: { source: string; alg: string; jws: string; octKey?: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/rfc-vectors.json', import.meta.url), 'utf8')) as Vectors;
const A3 = vectors.jws.find((v) => v.source.startsWith('RFC 7515 appendix A.3'))!;
const ED = vectors.jws.find((v) => v.source.startsWith('RFC 8037 appendix A.4'))!;
const A1 = vectors.refusedJws.find((v) => v.source.startsWith('RFC 7515 appendix A.1'))!;
const A5 = vectors.refusedJws.find((v) => v.source.startsWith('RFC 7515 appendix A.5'))!;

const publicKey = (jwk: Record<string, string>): KeyObject => createPublicKey({ key: jwk, format: 'jwk' });
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const [A3_H, A3_P, A3_S] = A3.jws.split('.') as [string, string, string];

function refusal(value: string): string {
  try {
    decodeCompactJws(value);
  } catch (error) {
    expect(error).toBeInstanceOf(JwsFormatError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(value.slice(0, 40))} to be refused`);
}

describe('decodeCompactJws — RFC 7515 appendix A.3 known answer', () => {
  it('decodes header, payload (CRLF inside the JSON and all), signing input and a 64-byte signature', () => {
    const decoded = decodeCompactJws(A3.jws);
    expect(decoded.header).toStrictEqual(A3.header);
    expect(decoded.payload).toStrictEqual(A3.payload);
    expect(decoded.signingInput.toString('ascii')).toBe(`${A3_H}.${A3_P}`);
    expect(decoded.signature).toEqual(Buffer.from(A3_S, 'base64url'));
    expect(decoded.signature).toHaveLength(64);
  });
});

describe('verifyJwsSignature — known answers (RFC 7515 A.3, RFC 8037 A.4)', () => {
  it('RFC 7515 A.3: the ES256 example verifies with the example public key', () => {
    const { signingInput, signature } = decodeCompactJws(A3.jws);
    expect(verifyJwsSignature('ES256', publicKey(A3.publicJwk), signingInput, signature)).toBe(true);
  });

  it('RFC 7515 A.3: flipping any one bit of the signature or signing input breaks it', () => {
    const key = publicKey(A3.publicJwk);
    const { signingInput, signature } = decodeCompactJws(A3.jws);
    for (let byte = 0; byte < signature.length; byte += 7) {
      const tampered = Buffer.from(signature);
      tampered[byte] = (tampered[byte] as number) ^ 0x01;
      expect(verifyJwsSignature('ES256', key, signingInput, tampered)).toBe(false);
    }
    const input = Buffer.from(signingInput);
    input[input.length - 1] = (input[input.length - 1] as number) ^ 0x01;
    expect(verifyJwsSignature('ES256', key, input, signature)).toBe(false);
  });

  it('RFC 8037 A.4: the Ed25519 example verifies under "EdDSA" and the fully specified "Ed25519"', () => {
    const [h, p, s] = ED.jws.split('.') as [string, string, string];
    const signingInput = Buffer.from(`${h}.${p}`, 'ascii');
    const signature = Buffer.from(s, 'base64url');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))).toStrictEqual(ED.header);
    expect(verifyJwsSignature('EdDSA', publicKey(ED.publicJwk), signingInput, signature)).toBe(true);
    expect(verifyJwsSignature('Ed25519', publicKey(ED.publicJwk), signingInput, signature)).toBe(true);
  });

  it('RFC 8037 A.4: its payload is text, not a JSON object, so the decoder (for JWTs only) refuses it', () => {
    expect(refusal(ED.jws)).toBe('JWS payload is not valid JSON');
  });

  it('RFC 7518 §3.1 / RFC 8725 §2.1: the A.3 signature under any other alg is false (key family, curve and hash are bound to alg)', () => {
    const key = publicKey(A3.publicJwk);
    const { signingInput, signature } = decodeCompactJws(A3.jws);
    for (const alg of ['ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'HS256', 'none', '', 'toString', '__proto__']) {
      expect(verifyJwsSignature(alg, key, signingInput, signature)).toBe(false);
    }
  });

  it('RFC 7515 A.1: HS256 is never verified, not even with the example\'s own secret (RFC 8725 §3.1)', () => {
    const { header, signingInput, signature } = decodeCompactJws(A1.jws);
    expect(header).toStrictEqual({ typ: 'JWT', alg: 'HS256' });
    const secret = createSecretKey(Buffer.from(A1.octKey!, 'base64url'));
    expect(verifyJwsSignature('HS256', secret, signingInput, signature)).toBe(false);
  });

  it('RFC 7518 §3.4: a DER-encoded ECDSA signature (not R || S) is false', () => {
    const { privateKey, publicKey: pub } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.e30');
    expect(verifyJwsSignature('ES256', pub, input, sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }))).toBe(true);
    expect(verifyJwsSignature('ES256', pub, input, sign('sha256', input, privateKey))).toBe(false);
  });

  it('a private key, an RSA key under 2048 bits (RFC 7518 §3.3) and garbage signatures are false, never a throw', () => {
    const { signingInput, signature } = decodeCompactJws(A3.jws);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(verifyJwsSignature('ES256', privateKey, signingInput, signature)).toBe(false);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaInput = Buffer.from('x.y');
    expect(verifyJwsSignature('RS256', small.publicKey, rsaInput, sign('sha256', rsaInput, small.privateKey))).toBe(false);
    expect(verifyJwsSignature('RS256', small.publicKey, rsaInput, Buffer.alloc(0))).toBe(false);
    expect(verifyJwsSignature('ES256', publicKey(A3.publicJwk), signingInput, Buffer.alloc(0))).toBe(false);
    expect(verifyJwsSignature('EdDSA', publicKey(ED.publicJwk), signingInput, Buffer.alloc(64))).toBe(false);
  });
});

describe('decodeCompactJws — RFC 7515 §7.1 strict compact serialisation', () => {
  const PARTS = 'not a compact JWS (expected three non-empty dot-separated parts)';

  it('RFC 7515 A.5: the unsecured JWS (alg none, empty signature) is refused', () => {
    expect(refusal(A5.jws)).toBe(PARTS);
  });

  it('exactly three non-empty parts: fewer, more (a JWE has five), or any empty part is refused', () => {
    for (const value of ['', '.', '..', '...', A3_H, `${A3_H}.${A3_P}`, `.${A3_P}.${A3_S}`, `${A3_H}..${A3_S}`, `${A3_H}.${A3_P}.`, `${A3.jws}.`, `${A3.jws}.${A3_S}`, `${A3_H}.${A3_P}.${A3_S}.${A3_S}.${A3_S}`]) {
      expect(refusal(value)).toBe(PARTS);
    }
  });

  it('RFC 7515 §2: base64url without padding, nothing outside its alphabet (no +, /, =, whitespace, non-ASCII)', () => {
    const UNPADDED = 'JWS parts must be unpadded base64url';
    for (const value of [
      `${A3_H}=.${A3_P}.${A3_S}`,
      `${A3_H}.${A3_P}==.${A3_S}`,
      `${A3_H}.${A3_P}.${A3_S}=`,
      `${A3_H}.${A3_P}.${A3_S.replace(/-/g, '+').replace(/_/g, '/')}`,
      ` ${A3.jws}`,
      `${A3.jws}\n`,
      `${A3_H}.${A3_P}\t.${A3_S}`,
      `${A3_H}.${A3_P}.${A3_S}é`,
    ]) {
      expect(refusal(value)).toBe(UNPADDED);
    }
  });

  it('RFC 7515 §5.2 step 3–4: header and payload must be JSON', () => {
    expect(refusal(`${b64('{"alg":')}.${A3_P}.${A3_S}`)).toBe('JWS header is not valid JSON');
    expect(refusal(`${A3_H}.${b64('not json')}.${A3_S}`)).toBe('JWS payload is not valid JSON');
  });

  it('RFC 7515 §4 / RFC 7519 §7.2: header and payload must be JSON objects', () => {
    for (const json of ['[]', 'null', '"ES256"', '1', 'true']) {
      expect(refusal(`${b64(json)}.${A3_P}.${A3_S}`)).toBe('JWS header must be a JSON object');
      expect(refusal(`${A3_H}.${b64(json)}.${A3_S}`)).toBe('JWS payload must be a JSON object');
    }
  });

  it('RFC 7515 §4.1.11: any "crit" header is refused — Warden understands no extension', () => {
    for (const header of ['{"alg":"ES256","crit":["exp"],"exp":1}', '{"alg":"ES256","crit":[]}', '{"alg":"ES256","b64":false,"crit":["b64"]}', '{"alg":"ES256","crit":null}']) {
      expect(refusal(`${b64(header)}.${A3_P}.${A3_S}`)).toBe('unsupported "crit" header parameter');
    }
  });

  it('RFC 7515 §4: a repeated header name resolves to the lexically last one, as the signature check then sees', () => {
    expect(decodeCompactJws(`${b64('{"alg":"none","alg":"ES256"}')}.${A3_P}.${A3_S}`).header).toStrictEqual({ alg: 'ES256' });
  });

  it('JwsFormatError is a WardenError with the stable code invalid_jws', () => {
    try {
      decodeCompactJws('x');
      throw new Error('unreachable');
    } catch (error) {
      expect(error).toBeInstanceOf(WardenError);
      expect((error as JwsFormatError).code).toBe('invalid_jws');
    }
  });
});
