import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { AuthorizationDecision } from '../oauth/authorization-decision.js';
import { tokenIdHash } from '../oauth/token-id-hash.js';
import { AUDIT_EVENT_TYPES, type AuditRecord } from './audit-event.js';
import { decisionEvent, securityEvent, type SecurityEventInput } from './audit-events.js';
import { createAuditTrail, type AuditSink } from './audit-trail.js';
import { createJsonLinesSink } from './json-lines-sink.js';
import { verifyAuditLog } from './verify-audit-log.js';

const schema = JSON.parse(readFileSync(new URL('../../schemas/audit-event.v1.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);

// What a careless caller could hand an emitter: each must never reach a record.
const ACCESS_TOKEN = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSIsImp0aSI6ImFiYyJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.eyJodG0iOiJQT1NUIn0.cHJvb2Ytc2lnbmF0dXJl';
const SECRET = 'client-secret-Zm9vYmFyYmF6cXV4cXV1eA';
const CODE = 'c29tZS1hdXRob3JpemF0aW9uLWNvZGUtdmFsdWU';
const PASSWORD = 'correct-horse-battery-staple';
const JTI = '6f1c2c4e-8d5a-4a5e-9a8e-0c6f1f3d2b7a';
const NEVER = [ACCESS_TOKEN, PROOF, SECRET, CODE, PASSWORD, JTI];

function decision(overrides: Partial<AuthorizationDecision> = {}): AuthorizationDecision {
  const t = performance.now();
  return {
    outcome: 'allow',
    reason: 'ok',
    status: 200,
    resource: 'https://mcp.example.com/mcp',
    methods: ['tools/call'],
    tools: ['delete_file'],
    clientId: 'agent-1',
    subject: 'alice',
    jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    jti: JTI,
    scheme: 'DPoP',
    steps: [['shape', t + 0.1], ['token', t + 0.2], ['replay', t + 0.3]],
    startedAt: t,
    context: { requestId: 'req-1', sourceAddress: '203.0.113.9' },
    ...overrides,
  };
}

/** Every security event type, with hostile free text where a caller might put credentials. */
function securityInputs(): SecurityEventInput[] {
  const types = AUDIT_EVENT_TYPES.filter((t): t is SecurityEventInput['type'] => t !== 'authz.decision');
  return types.map((type) => ({
    type,
    clientId: 'agent-1',
    subject: 'alice',
    grantId: 'grant-1',
    ...(type === 'token.issued' || type === 'token.refreshed' ? { grantType: type === 'token.issued' ? 'authorization_code' : 'refresh_token', resource: 'https://mcp.example.com/mcp' } : {}),
    scopes: ['mcp:tools'],
    jtiHash: tokenIdHash(JTI),
    detail: `failed with Authorization: Bearer ${ACCESS_TOKEN}, DPoP ${PROOF} at https://as.example/cb?code=${CODE}&client_secret=${SECRET}&password=${PASSWORD}`,
  }));
}

function capture(): { sink: AuditSink; lines: string[]; records: AuditRecord[] } {
  const lines: string[] = [];
  const records: AuditRecord[] = [];
  return { lines, records, sink: { write: (record, line) => (records.push(record as AuditRecord), lines.push(line)) } };
}

describe('audit events (warden.audit/1)', () => {
  it('every event type validates against schemas/audit-event.v1.json and holds no token, proof, secret, code, password or jti', () => {
    const { sink, lines, records } = capture();
    const trail = createAuditTrail({ instance: 'test-1', sinks: [sink] });
    trail.emit(decisionEvent(decision(), 'files'));
    trail.emit(decisionEvent(decision({ outcome: 'deny', reason: 'insufficient_scope', status: 403, tools: [`x ${ACCESS_TOKEN}`] }), 'files'));
    trail.emit(decisionEvent(decision({ outcome: 'deny', reason: 'no_credentials', status: 401, clientId: undefined, subject: undefined, jkt: undefined, jti: undefined }) as AuthorizationDecision));
    for (const input of securityInputs()) trail.emit(securityEvent(input));

    expect(new Set(records.map((r) => r.type))).toEqual(new Set(AUDIT_EVENT_TYPES));
    for (const record of records) {
      const ok = validate(record);
      expect(ok ? [] : validate.errors, record.type).toEqual([]);
    }
    for (const line of lines) for (const secret of NEVER) expect(line).not.toContain(secret);
    expect(records[0]).toMatchObject({ type: 'authz.decision', outcome: 'allow', server: 'files', tools: ['delete_file'], clientId: 'agent-1', subject: 'alice', jtiHash: tokenIdHash(JTI), requestId: 'req-1', source: '203.0.113.9' });
  });

  it('sign-in events carry their outcome; a decision without a verified token names no caller', () => {
    expect(securityEvent({ type: 'login.failed', subject: 'bob' })).toMatchObject({ outcome: 'failure' });
    expect(securityEvent({ type: 'login.succeeded', subject: 'bob' })).toMatchObject({ outcome: 'success' });
    const anonymous = decisionEvent({ ...decision(), clientId: undefined, subject: undefined, jkt: undefined, jti: undefined } as AuthorizationDecision);
    expect(anonymous).not.toHaveProperty('clientId');
    expect(anonymous).not.toHaveProperty('jtiHash');
  });
});

describe('hash chain: warden audit-log verify', () => {
  function chained(n: number): string[] {
    const { sink, lines } = capture();
    const trail = createAuditTrail({ instance: 'i-1', sinks: [sink] });
    for (let i = 0; i < n; i += 1) trail.emit(securityEvent({ type: 'token.issued', clientId: `c${i}`, grantType: 'client_credentials', resource: 'https://r/mcp' }));
    return lines;
  }
  const verify = (lines: string[]) => verifyAuditLog([{ file: 'audit.log', text: `${lines.join('\n')}\n` }]);

  it('an untouched log is intact', () => {
    const report = verify(chained(5));
    expect(report).toMatchObject({ intact: true, records: 5, problems: [] });
    expect(report.chains).toEqual([expect.objectContaining({ first: 0, last: 4, complete: true })]);
  });

  it('a removed record is a cut, reported at the line after it', () => {
    const lines = chained(5);
    lines.splice(2, 1);
    const report = verify(lines);
    expect(report.intact).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'cut', line: 3 })]);
  });

  it('an edited record breaks the link to the record after it', () => {
    const lines = chained(5);
    lines[1] = lines[1]!.replace('"c1"', '"c9"');
    expect(verify(lines).problems).toEqual([expect.objectContaining({ kind: 'edited', line: 3 })]);
  });

  it('moved records are reported as reordered', () => {
    const lines = chained(4);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    expect(verify(lines).problems.map((p) => p.kind)).toContain('reordered');
  });

  it('other JSON lines on the same stream are skipped; a record made unparsable shows as a cut', () => {
    const lines = chained(3);
    const mixed = [lines[0]!, '{"level":"info","msg":"request"}', lines[1]!, lines[2]!];
    expect(verify(mixed)).toMatchObject({ intact: true, skipped: 1 });
    mixed[2] = mixed[2]!.slice(0, 20);
    expect(verify(mixed).problems).toEqual([expect.objectContaining({ kind: 'cut', line: 4 })]);
  });

  it('the file sink rotates by size without splitting a record; the rotated files verify as one chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
    const path = join(dir, 'audit.log');
    const trail = createAuditTrail({ instance: 'i-2', sinks: [createJsonLinesSink({ kind: 'file', path, maxBytes: 2048, keep: 10 })] });
    for (let i = 0; i < 40; i += 1) trail.emit(securityEvent({ type: 'consent.given', clientId: `client-${i}`, subject: 'alice', scopes: ['mcp:tools'] }));
    await trail.close();
    const files = readdirSync(dir).sort((a, b) => (b.length - a.length) || b.localeCompare(a));
    expect(files.length).toBeGreaterThan(2);
    const logs = files.map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
    for (const { text } of logs) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
      for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(verifyAuditLog(logs)).toMatchObject({ intact: true, records: 40 });
    // The newest file alone starts mid-chain: intact, but not complete.
    const last = verifyAuditLog([logs[logs.length - 1]!]);
    expect(last.intact).toBe(true);
    expect(last.chains[0]!.complete).toBe(false);
  });
});
