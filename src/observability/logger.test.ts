import { describe, expect, it } from 'vitest';
import { createLogger, redact, redactString, REDACTED } from './logger.js';

// A real-looking ES256 JWT (access token) and a DPoP proof: neither may ever reach a log line.
const TOKEN =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjQwMDAiLCJzdWIiOiJkZW1vIn0.MEUCIQDx3kY1u2Wq8Yx7pQm3c9a1b2c3d4e5f6a7b8c9d0e1f2';
const PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIn19.eyJqdGkiOiJhYmMiLCJodG0iOiJQT1NUIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl';
const OPAQUE = 'opaque-access-token-2YotnFZFEjr1zCsicMWpAA';

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ write: (line) => lines.push(line), now: () => new Date(0) }) };
}

describe('logger redaction', () => {
  it('never writes Authorization, DPoP or Cookie header values', () => {
    const { lines, logger } = capture();
    logger.info('request', {
      headers: { authorization: `DPoP ${TOKEN}`, DPoP: PROOF, cookie: 'session=abc123', 'content-type': 'application/json' },
      rawHeaders: ['Authorization', `Bearer ${OPAQUE}`],
    });
    const out = lines.join('\n');
    for (const secret of [TOKEN, PROOF, OPAQUE, 'abc123']) expect(out).not.toContain(secret);
    const record = JSON.parse(lines[0]!) as { headers: Record<string, string>; rawHeaders: string[] };
    expect(record.headers).toEqual({ authorization: REDACTED, DPoP: REDACTED, cookie: REDACTED, 'content-type': 'application/json' });
    expect(record.rawHeaders).toEqual(['Authorization', `Bearer ${REDACTED}`]);
  });

  it('scrubs tokens and proofs from free text, messages and errors', () => {
    const { lines, logger } = capture();
    logger.error(`could not verify ${TOKEN}`, { error: new Error(`bad proof ${PROOF}`), note: `header was "Bearer ${OPAQUE}"` });
    const out = lines.join('\n');
    for (const secret of [TOKEN, PROOF, OPAQUE]) expect(out).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', error: { name: 'Error' } });
  });

  it('redacts secret-bearing field names at any depth', () => {
    const value = redact({
      client_secret: 's3cr3t',
      config: { nonce: { secret: 'n0nce-secret' }, privateJwk: { d: 'private-d' } },
      tokens: [{ access_token: 'a', refresh_token: 'r' }],
      code: 'authz-code',
      password: 'pw',
    });
    const text = JSON.stringify(value);
    for (const secret of ['s3cr3t', 'n0nce-secret', 'private-d', '"a"', '"r"', 'authz-code', '"pw"']) expect(text).not.toContain(secret);
  });

  it('redacts credentials inside URLs', () => {
    expect(redactString('redis://user:hunter2@cache:6379/0')).toBe(`redis://${REDACTED}@cache:6379/0`);
    expect(redactString('/cb?code=abc&state=x&access_token=tok')).toBe(`/cb?code=${REDACTED}&state=x&access_token=${REDACTED}`);
  });

  it('keeps ordinary prose and fields readable', () => {
    expect(redactString('the DPoP public key')).toBe('the DPoP public key');
    const { lines, logger } = capture();
    logger.info('request', { method: 'POST', path: '/mcp', status: 401, reason: 'invalid_token' });
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'request',
      method: 'POST',
      path: '/mcp',
      status: 401,
      reason: 'invalid_token',
    });
  });

  it('cuts cycles and honours the level threshold', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    logger.info('dropped');
    logger.warn('kept', { cyclic });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'kept', cyclic: { self: '[Circular]' } });
  });
});
