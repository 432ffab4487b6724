import { describe, expect, it } from 'vitest';
import { isScopeToken, missingScopes, parseScope } from './scope.js';

describe('isScopeToken — RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )', () => {
  it('accepts each allowed character alone, and exactly those among U+0000–U+00FF', () => {
    const accepted: number[] = [];
    for (let c = 0; c <= 0xff; c++) if (isScopeToken(String.fromCharCode(c))) accepted.push(c);
    const expected: number[] = [0x21];
    for (let c = 0x23; c <= 0x5b; c++) expected.push(c);
    for (let c = 0x5d; c <= 0x7e; c++) expected.push(c);
    expect(accepted).toEqual(expected);
  });

  it('accepts the tokens MCP servers use', () => {
    for (const token of ['mcp:tools', 'mcp:admin', 'openid', 'https://api.example.com/read', 'files.read_write~v2']) expect(isScopeToken(token)).toBe(true);
  });

  it('refuses the empty string (1*), a space inside, `"` and `\\`, controls, DEL and non-ASCII', () => {
    for (const token of ['', 'mcp tools', ' mcp', 'mcp"', 'mcp\\', 'mcp\t', 'mcp\n', 'mcp\u007f', 'mcp:tôols', 'mcp\u2028']) {
      expect(isScopeToken(token)).toBe(false);
    }
  });
});

describe('parseScope — RFC 6749 §3.3 space-delimited, case-sensitive list', () => {
  it('splits on spaces, in order', () => {
    expect(parseScope('mcp:tools mcp:admin openid')).toEqual(['mcp:tools', 'mcp:admin', 'openid']);
  });

  it('ignores runs of spaces and leading/trailing spaces; the empty string is no scope', () => {
    expect(parseScope('  mcp:tools   mcp:admin ')).toEqual(['mcp:tools', 'mcp:admin']);
    expect(parseScope('')).toEqual([]);
    expect(parseScope('   ')).toEqual([]);
  });

  it('drops repeats, keeping the first position (the order of the scope list does not matter)', () => {
    expect(parseScope('b a b c a')).toEqual(['b', 'a', 'c']);
  });

  it('is case-sensitive: "Read" and "read" are two scopes', () => {
    expect(parseScope('read Read READ')).toEqual(['read', 'Read', 'READ']);
  });

  it('only %x20 delimits: a tab or newline stays inside a token (which isScopeToken then refuses)', () => {
    expect(parseScope('a\tb c\nd')).toEqual(['a\tb', 'c\nd']);
  });
});

describe('missingScopes — what a request needs that the token was not granted (RFC 6750 §3.1 insufficient_scope)', () => {
  it('lists the required scopes absent from the grant, in the order required', () => {
    expect(missingScopes(['mcp:tools'], ['mcp:admin', 'mcp:tools', 'mcp:audit'])).toEqual(['mcp:admin', 'mcp:audit']);
  });

  it('is empty when every required scope is granted, or nothing is required', () => {
    expect(missingScopes(['mcp:tools', 'mcp:admin'], ['mcp:admin'])).toEqual([]);
    expect(missingScopes([], [])).toEqual([]);
    expect(missingScopes(['x'], new Set<string>())).toEqual([]);
  });

  it('compares case-sensitively and exactly (no prefix or wildcard matching)', () => {
    expect(missingScopes(['MCP:ADMIN', 'mcp:admin:read', 'mcp:*'], ['mcp:admin'])).toEqual(['mcp:admin']);
  });

  it('takes any iterable of required scopes', () => {
    function* required(): Generator<string> {
      yield 'a';
      yield 'b';
    }
    expect(missingScopes(['a'], required())).toEqual(['b']);
    expect(missingScopes(['b'], new Set(['a', 'b']))).toEqual(['a']);
  });
});
