import { describe, expect, it } from 'vitest';
import type { AuthenticatedRequest } from '../resource-server/index.js';
import { canonicalBody } from './mount-resource.js';

const req = (body: unknown, raw: Buffer) => ({ body, rawBody: raw }) as unknown as AuthenticatedRequest;

describe('gateway forwards the JSON the gauntlet evaluated', () => {
  it('re-serialises a parsed body: duplicate keys collapse the way JSON.parse read them', () => {
    const raw = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_reset","name":"echo"}}');
    const parsed = JSON.parse(raw.toString()) as unknown;
    const out = JSON.parse(canonicalBody(req(parsed, raw)).toString()) as { params: { name: string } };
    expect(out.params.name).toBe('echo');
    expect(canonicalBody(req(parsed, raw)).toString()).not.toContain('admin_reset');
  });

  it('a JSON body sent with another content type is canonicalised too; non-JSON bytes pass unchanged; empty stays empty', () => {
    const dup = Buffer.from('{"method":"tools/call","params":{"name":"admin_reset","name":"echo"}}');
    expect(canonicalBody(req(undefined, dup)).toString()).not.toContain('admin_reset');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    expect(canonicalBody(req(undefined, bom))).toEqual(bom);
    expect(canonicalBody(req(undefined, Buffer.alloc(0))).length).toBe(0);
  });
});
