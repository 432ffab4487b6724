/** HTTP around the body: request paths, methods, SEP-2243 routing headers, forwarding headers. */
import { HEADER_MISMATCH, type DiffCase } from './case.js';
import { ADMIN, ECHO, toolCall, utf8 } from './json-text.js';

/** Request paths under the mount with dot segments, path parameters and encodings. */
export function pathCases(): DiffCase[] {
  const paths: Array<[string, string]> = [
    ['encoded-dot-dot', '/%2e%2e/x'],
    ['encoded-slash-dot-dot', '/%2f..'],
    ['encoded-backslash', '/%5c'],
    ['double-encoded-dot', '/%252e'],
    ['double-encoded-dot-dot', '/%252e%252e/x'],
    ['dot-segment', '/./x'],
    ['encoded-dot-segment', '/%2e/x'],
    ['half-encoded-dot-dot', '/.%2e/x'],
    ['dot-dot-encoded-slash', '/..%2fx'],
    ['semicolon-on-mount', ';x'],
    ['jsessionid', ';jsessionid=abc'],
    ['semicolon-segment', '/;x'],
    ['matrix-parameter', '/x;y=z'],
    ['dot-dot-semicolon-once', '/..;/x'],
    ['sub-path-dot-dot', '/x/..'],
    ['sub-path-escape', '/x/../../y'],
    ['empty-segment', '//x'],
    ['encoded-nul', '/%00'],
    ['overlong-dots', '/%c0%ae%c0%ae/x'],
    ['unicode-dots', '/%u002e%u002e/x'],
    ['raw-backslash', '/..\\x'],
    ['encoded-slash-on-mount', '%2fx'],
    ['trailing-slash', '/'],
  ];
  return paths.map(([kind, path]) => ({ id: `path/${kind}`, group: 'path' as const, path, body: utf8(ECHO) }));
}

/** Methods other than POST carrying MCP bodies. */
export function httpMethodCases(): DiffCase[] {
  return [
    { id: 'http-method/put', group: 'http-method', method: 'PUT', body: utf8(ECHO) },
    { id: 'http-method/patch', group: 'http-method', method: 'PATCH', body: utf8(ECHO) },
    { id: 'http-method/get-with-admin-body', group: 'http-method', method: 'GET', body: utf8(ADMIN) },
    { id: 'http-method/lower-case-post', group: 'http-method', method: 'post', body: utf8(ECHO) },
  ];
}

/** `Mcp-Method`/`Mcp-Name` headers that disagree with the body, or are malformed (SEP-2243). */
export function sep2243Cases(): DiffCase[] {
  const b64 = (value: string) => `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  const mismatch = (what: string) => HEADER_MISMATCH(`${what} (SEP-2243: headers must match the body, else -32020 HeaderMismatch)`);
  return [
    { id: 'sep-2243/name-only-mismatch', group: 'sep-2243-header', headers: { 'mcp-name': 'admin_delete' }, body: utf8(ECHO), expect: mismatch('Mcp-Name admin_delete, body echo') },
    { id: 'sep-2243/name-base64-mismatch', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': b64('admin_delete') }, body: utf8(ECHO), expect: mismatch('Mcp-Name =?base64?…?= decoding to admin_delete, body echo') },
    { id: 'sep-2243/name-twice', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': ['echo', 'admin_delete'] }, body: utf8(ECHO), expect: mismatch('two Mcp-Name fields') },
    { id: 'sep-2243/name-upper-case', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': 'ADMIN_DELETE' }, body: utf8(ECHO), expect: mismatch('Mcp-Name ADMIN_DELETE, body echo') },
    { id: 'sep-2243/name-on-tools-list', group: 'sep-2243-header', headers: { 'mcp-name': 'admin_delete' }, body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'), expect: mismatch('Mcp-Name on a body without params.name') },
    { id: 'sep-2243/method-and-name-on-ping', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': 'admin_delete' }, body: utf8('{"jsonrpc":"2.0","id":1,"method":"ping"}'), expect: mismatch('Mcp-Method tools/call on a ping') },
    { id: 'sep-2243/method-case', group: 'sep-2243-header', headers: { 'mcp-method': 'TOOLS/CALL', 'mcp-name': 'echo' }, body: utf8(ECHO), expect: mismatch('Mcp-Method TOOLS/CALL, body tools/call') },
    { id: 'sep-2243/name-invalid-base64', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': '=?base64?!!!?=' }, body: utf8(ECHO), expect: mismatch('malformed base64 sentinel') },
    { id: 'sep-2243/name-base64-plain-ascii', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': b64('echo') }, body: utf8(ECHO) },
    { id: 'sep-2243/name-on-batch', group: 'sep-2243-header', headers: { 'mcp-method': 'tools/call', 'mcp-name': 'admin_delete' }, body: utf8(`[${ECHO}]`) },
    {
      id: 'sep-2243/name-raw-utf-8',
      group: 'sep-2243-header',
      headers: { 'mcp-method': 'tools/call', 'mcp-name': Buffer.from('héllo', 'utf8').toString('latin1') },
      body: utf8(toolCall('héllo')),
      expect: mismatch('a raw non-ASCII Mcp-Name is malformed: such values must use the =?base64?…?= form'),
    },
  ];
}

/** Forwarding headers a client could use to lie to the upstream about the request. */
export const SPOOFED_HEADERS: ReadonlyArray<readonly [name: string, value: string]> = [
  ['forwarded', 'for=6.6.6.6;host=attacker.example;proto=https'],
  ['x-forwarded-for', '6.6.6.6'],
  ['x-forwarded-host', 'attacker.example'],
  ['x-forwarded-proto', 'https'],
  ['x-forwarded-prefix', '/attacker-prefix'],
  ['x-forwarded-port', '6666'],
  ['x-real-ip', '6.6.6.7'],
  ['x-original-url', '/attacker/original-url'],
  ['x-rewrite-url', '/attacker/rewrite-url'],
  ['x-http-method-override', 'DELETE'],
  ['x-http-method', 'PUT'],
  ['x-method-override', 'PATCH'],
  ['true-client-ip', '6.6.6.8'],
  ['x-client-ip', '6.6.6.9'],
];

/** Forwarding headers a client writes itself, one at a time and all together. */
export function spoofedHeaderCases(): DiffCase[] {
  const cases: DiffCase[] = SPOOFED_HEADERS.map(([name, value]) => ({
    id: `spoofed-header/${name}`,
    group: 'spoofed-header' as const,
    headers: { [name]: value },
    body: utf8(ECHO),
    spoofed: [[name, value]],
  }));
  cases.push(
    {
      id: 'spoofed-header/all-at-once',
      group: 'spoofed-header',
      headers: Object.fromEntries(SPOOFED_HEADERS),
      body: utf8(ECHO),
      spoofed: SPOOFED_HEADERS,
    },
    { id: 'spoofed-header/x-forwarded-for-twice', group: 'spoofed-header', headers: { 'x-forwarded-for': ['6.6.6.10', '6.6.6.11'] }, body: utf8(ECHO), spoofed: [['x-forwarded-for', '6.6.6.10'], ['x-forwarded-for', '6.6.6.11']] },
    { id: 'spoofed-header/underscore-spelling', group: 'spoofed-header', headers: { x_forwarded_for: '6.6.6.12' }, body: utf8(ECHO), spoofed: [['x-forwarded-for', '6.6.6.12']] },
  );
  return cases;
}
