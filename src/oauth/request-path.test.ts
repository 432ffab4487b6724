import { describe, expect, it } from 'vitest';
import { requestPath } from './request-path.js';

describe('requestPath — the path of an HTTP request target (RFC 9112 §3.2)', () => {
  it('origin-form (§3.2.1): the path without query or fragment', () => {
    expect(requestPath('/mcp')).toBe('/mcp');
    expect(requestPath('/mcp?session=1')).toBe('/mcp');
    expect(requestPath('/mcp#top')).toBe('/mcp');
    expect(requestPath('/.well-known/oauth-protected-resource/mcp?x=1#y')).toBe('/.well-known/oauth-protected-resource/mcp');
    expect(requestPath('/')).toBe('/');
    expect(requestPath('/?a=b')).toBe('/');
  });

  it('origin-form is returned as sent: no decoding, no dot-segment removal (an exact-match router then matches nothing)', () => {
    expect(requestPath('/a/../mcp')).toBe('/a/../mcp');
    expect(requestPath('/%6Dcp')).toBe('/%6Dcp');
    expect(requestPath('//evil.example/x')).toBe('//evil.example/x');
  });

  it('absolute-form (§3.2.2): only the path; the authority is not the request path', () => {
    expect(requestPath('http://mcp.example.com/mcp?x=1')).toBe('/mcp');
    expect(requestPath('https://mcp.example.com')).toBe('/');
  });

  it('asterisk-form (§3.2.4) stays "*"', () => {
    expect(requestPath('*')).toBe('*');
  });

  it('a target that cannot be parsed is the root, never an exception', () => {
    for (const target of ['', 'mcp', '?x=1', 'http://[bad']) expect(requestPath(target)).toBe('/');
  });
});
