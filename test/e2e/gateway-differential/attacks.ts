/** The exact attacks of the issue, written out by hand and exported by id for the tests that name them. */
import { HEADER_MISMATCH, INVALID_REQUEST, UNSUPPORTED_MEDIA, type DiffCase } from './case.js';
import { ECHO, object, utf8 } from './json-text.js';


/** `paramſ` (U+017F) shadowing `params`: Go's encoding/json reads admin_delete. */
export const ATTACK_LONG_S_PARAMS = 'attack/params-long-s';
/** The same with `param\u017f` written as an escape. */
export const ATTACK_LONG_S_PARAMS_ESCAPED = 'attack/params-long-s-escaped';
/** `jſonrpc`: Warden sees no JSON-RPC message; Go reads one calling admin_delete. */
export const ATTACK_LONG_S_JSONRPC = 'attack/jsonrpc-long-s';
/** `charset=utf-7`, `"+AG4-ame"` decodes to `"name"` in the v1 SSE transport. */
export const ATTACK_UTF7_NAME = 'attack/utf-7-name';
/** The same, with a visible `"name":"echo"` for Warden to authorize. */
export const ATTACK_UTF7_SHADOW_NAME = 'attack/utf-7-shadow-name';
/** Tomcat-style `..;` path traversal. */
export const ATTACK_PATH_DOT_DOT_SEMICOLON = 'attack/path-dot-dot-semicolon';
/** Encoded dots with a path parameter. */
export const ATTACK_PATH_ENCODED_DOTS_SEMICOLON = 'attack/path-encoded-dots-semicolon';
/** `Mcp-Name: admin_delete` on a body calling echo (the Go upstream routes by the header). */
export const ATTACK_MCP_NAME_MISMATCH = 'attack/mcp-name-mismatch';
/** `Mcp-Method: tools/list` on a tools/call body. */
export const ATTACK_MCP_METHOD_MISMATCH = 'attack/mcp-method-mismatch';
/** Matching `Mcp-Method`/`Mcp-Name` for echo: must pass. */
export const MATCHING_MCP_HEADERS = 'sep-2243/matching-ascii';
/** Matching `Mcp-Name` in the `=?base64?…?=` form for the non-ASCII tool `héllo`: must pass. */
export const MATCHING_MCP_HEADERS_BASE64 = 'sep-2243/matching-base64-non-ascii';

const UTF7 = { 'content-type': 'application/json; charset=utf-7' };

/** The attacks, plus the matching SEP-2243 headers that must pass. */
export function attackCases(): DiffCase[] {
  const paramsLongS = (key: string): Buffer =>
    utf8(object([['jsonrpc', '"2.0"'], ['id', '1'], ['method', '"tools/call"'], ['params', '{"name":"echo"}'], [key, '{"name":"admin_delete"}']]));
  return [
    {
      id: ATTACK_LONG_S_PARAMS,
      group: 'member-fold',
      body: paramsLongS('paramſ'),
      expect: INVALID_REQUEST('"paramſ" folds to "params" in Go encoding/json (U+017F ~ s)'),
    },
    {
      id: ATTACK_LONG_S_PARAMS_ESCAPED,
      group: 'member-fold',
      body: paramsLongS('param\\u017f'),
      expect: INVALID_REQUEST('"param\\u017f" folds to "params" in Go encoding/json (U+017F ~ s)'),
    },
    {
      id: ATTACK_LONG_S_JSONRPC,
      group: 'member-fold',
      body: utf8('{"jſonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_delete"}}'),
      expect: INVALID_REQUEST('"jſonrpc" folds to "jsonrpc" in Go encoding/json: the body is not an unambiguous JSON-RPC message'),
    },
    {
      id: ATTACK_UTF7_NAME,
      group: 'charset',
      headers: UTF7,
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"+AG4-ame":"admin_delete","arguments":{}}}'),
      expect: UNSUPPORTED_MEDIA('charset=utf-7 is not UTF-8 (RFC 8259 §8.1); "+AG4-ame" decodes to "name"'),
    },
    {
      id: ATTACK_UTF7_SHADOW_NAME,
      group: 'charset',
      headers: UTF7,
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","+AG4-ame":"admin_delete","arguments":{}}}'),
      expect: UNSUPPORTED_MEDIA('charset=utf-7 is not UTF-8 (RFC 8259 §8.1); "+AG4-ame" decodes to a second "name"'),
    },
    {
      id: 'attack/utf-7-shadow-params',
      group: 'charset',
      headers: UTF7,
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"param+AHM-":{"name":"admin_delete"}}'),
      expect: UNSUPPORTED_MEDIA('charset=utf-7 is not UTF-8 (RFC 8259 §8.1); "param+AHM-" decodes to a second "params"'),
    },
    {
      id: ATTACK_PATH_DOT_DOT_SEMICOLON,
      group: 'path',
      path: '/..;/..;/actuator/env',
      body: utf8(ECHO),
      expect: { status: 400, because: '"..;" is a dot segment to Tomcat/Spring (DESIGN: segments with ";" or ".." are refused)' },
    },
    {
      id: ATTACK_PATH_ENCODED_DOTS_SEMICOLON,
      group: 'path',
      path: '/%2e%2e;/x',
      body: utf8(ECHO),
      expect: { status: 400, because: 'encoded dots with a path parameter (DESIGN: encoded "." and ";" segments are refused)' },
    },
    {
      id: ATTACK_MCP_NAME_MISMATCH,
      group: 'sep-2243-header',
      headers: { 'mcp-method': 'tools/call', 'mcp-name': 'admin_delete' },
      body: utf8(ECHO),
      expect: HEADER_MISMATCH('Mcp-Name names admin_delete, the body calls echo (SEP-2243: HeaderMismatch)'),
    },
    {
      id: ATTACK_MCP_METHOD_MISMATCH,
      group: 'sep-2243-header',
      headers: { 'mcp-method': 'tools/list' },
      body: utf8(ECHO),
      expect: HEADER_MISMATCH('Mcp-Method says tools/list, the body is tools/call (SEP-2243: HeaderMismatch)'),
    },
    {
      id: MATCHING_MCP_HEADERS,
      group: 'sep-2243-header',
      headers: { 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      body: utf8(ECHO),
      mustForward: true,
    },
    {
      id: MATCHING_MCP_HEADERS_BASE64,
      group: 'sep-2243-header',
      headers: { 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('héllo').toString('base64')}?=` },
      // The tool name escaped, so the body is ASCII either way.
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"h\\u00e9llo","arguments":{}}}'),
      mustForward: true,
    },
  ];
}
