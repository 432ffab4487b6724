/** JSON-RPC messages: legitimate baselines, batches, notifications, method and tool-name values, shapes. */
import { INVALID_REQUEST, type DiffCase } from './case.js';
import { ADMIN, callParams, ECHO, object, toolCall, utf8 } from './json-text.js';

/** Legitimate requests that must be forwarded, and the plain guarded call that must be refused. */
export function baselineCases(): DiffCase[] {
  return [
    { id: 'baseline/tools-call-echo', group: 'baseline', body: utf8(ECHO), mustForward: true },
    { id: 'baseline/tools-call-echo-arguments', group: 'baseline', body: utf8('{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo ✓ \\u00e9"}}}'), mustForward: true },
    { id: 'baseline/tools-list', group: 'baseline', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'), mustForward: true },
    { id: 'baseline/ping', group: 'baseline', body: utf8('{"jsonrpc":"2.0","id":1,"method":"ping"}'), mustForward: true },
    { id: 'baseline/pretty-printed', group: 'baseline', body: utf8(JSON.stringify(JSON.parse(ECHO), null, 2)), mustForward: true },
    { id: 'baseline/tools-call-admin', group: 'baseline', body: utf8(ADMIN) },
  ];
}

/** Batches mixing allowed, guarded and ambiguous messages (JSON-RPC 2.0 §6). */
export function batchCases(): DiffCase[] {
  const batch = (...messages: string[]) => utf8(`[${messages.join(',')}]`);
  const paramsLongS = object([['jsonrpc', '"2.0"'], ['id', '2'], ['method', '"tools/call"'], ['params', callParams('echo')], ['paramſ', callParams('admin_delete')]]);
  const jsonrpcLongS = object([['jſonrpc', '"2.0"'], ['id', '2'], ['method', '"tools/call"'], ['params', callParams('admin_delete')]]);
  return [
    { id: 'batch/echo-echo', group: 'batch', body: batch(ECHO, toolCall('echo', 2)) },
    { id: 'batch/echo-admin', group: 'batch', body: batch(ECHO, toolCall('admin_delete', 2)) },
    { id: 'batch/admin-echo', group: 'batch', body: batch(toolCall('admin_delete', 2), ECHO) },
    { id: 'batch/echo-params-long-s', group: 'batch', body: batch(ECHO, paramsLongS), expect: INVALID_REQUEST('a batch element has "paramſ", which folds to "params"') },
    { id: 'batch/jsonrpc-long-s', group: 'batch', body: batch(ECHO, jsonrpcLongS), expect: INVALID_REQUEST('a batch element has "jſonrpc", which folds to "jsonrpc"') },
    { id: 'batch/single-params-long-s', group: 'batch', body: batch(paramsLongS), expect: INVALID_REQUEST('"paramſ" folds to "params"') },
    { id: 'batch/nested', group: 'batch', body: batch(`[${toolCall('admin_delete')}]`) },
    { id: 'batch/nested-echo', group: 'batch', body: batch(`[${ECHO}]`, ECHO) },
    { id: 'batch/empty', group: 'batch', body: utf8('[]'), expect: INVALID_REQUEST('an empty batch is an invalid request (JSON-RPC 2.0 §6)') },
    { id: 'batch/notification-admin', group: 'batch', body: batch('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_delete"}}', ECHO) },
    { id: 'batch/with-non-object', group: 'batch', body: batch(ECHO, '1', '"tools/call"') },
    { id: 'batch/same-id-twice', group: 'batch', body: batch(ECHO, ECHO) },
    { id: 'batch/response-and-request', group: 'batch', body: batch('{"jsonrpc":"2.0","id":7,"result":{}}', ECHO) },
    { id: 'batch/many', group: 'batch', body: batch(...Array.from({ length: 50 }, (_, i) => toolCall('echo', i + 1))) },
    { id: 'batch/leading-whitespace', group: 'batch', body: utf8(` \r\n\t[${ECHO}]`) },
  ];
}

/** Notifications, including a tools/call without an id (lenient servers run it). */
export function notificationCases(): DiffCase[] {
  return [
    { id: 'notification/initialized', group: 'notification', body: utf8('{"jsonrpc":"2.0","method":"notifications/initialized"}'), mustForward: true },
    { id: 'notification/cancelled', group: 'notification', body: utf8('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99,"reason":"x"}}'), mustForward: true },
    { id: 'notification/tools-call-admin', group: 'notification', body: utf8('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_delete"}}') },
    { id: 'notification/tools-call-echo', group: 'notification', body: utf8('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}') },
    {
      id: 'notification/params-long-s',
      group: 'notification',
      body: utf8('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_delete"}}'),
      expect: INVALID_REQUEST('"paramſ" folds to "params"'),
    },
    { id: 'notification/id-null', group: 'notification', body: utf8('{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo"}}') },
  ];
}

/** `method` values that are almost tools/call, calling the guarded tool. */
export function methodValueCases(): DiffCase[] {
  const spellings: Array<[string, string]> = [
    ['title-case', 'Tools/Call'],
    ['upper-case', 'TOOLS/CALL'],
    ['trailing-nul', 'tools/call\\u0000'],
    ['trailing-space', 'tools/call '],
    ['leading-space', ' tools/call'],
    ['trailing-tab', 'tools/call\\t'],
    ['trailing-newline', 'tools/call\\n'],
    ['long-s', 'toolſ/call'],
    ['escaped-solidus', 'tools\\/call'],
    ['trailing-slash', 'tools/call/'],
    ['double-slash', 'tools//call'],
    ['zero-width-space', 'tools/call\\u200b'],
    ['fullwidth-solidus', 'tools\\uff0fcall'],
  ];
  return spellings.map(([kind, method]) => ({
    id: `method-value/${kind}`,
    group: 'method-value' as const,
    body: utf8(`{"jsonrpc":"2.0","id":1,"method":"${method}","params":{"name":"admin_delete"}}`),
  }));
}

/** Tool names that are almost admin_delete. */
export function toolValueCases(): DiffCase[] {
  const spellings: Array<[string, string]> = [
    ['upper-case', 'ADMIN_DELETE'],
    ['title-case', 'Admin_Delete'],
    ['trailing-nul', 'admin_delete\\u0000'],
    ['trailing-space', 'admin_delete '],
    ['leading-space', ' admin_delete'],
    ['trailing-tab', 'admin_delete\\t'],
    ['dotless-i', 'admın_delete'],
    ['zero-width-space', 'admin\\u200b_delete'],
    ['fullwidth', 'ａｄｍｉｎ_delete'],
    ['percent-encoded', 'admin%5fdelete'],
    ['hyphen', 'admin-delete'],
    ['escaped-plain', '\\u0061dmin_delete'],
  ];
  return spellings.map(([kind, tool]) => ({
    id: `tool-value/${kind}`,
    group: 'tool-value' as const,
    body: utf8(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${tool}"}}`),
  }));
}

/** JSON that is not a JSON-RPC message, responses, extra members, text around the message. */
export function messageShapeCases(): DiffCase[] {
  const notRpc = (what: string) => INVALID_REQUEST(`${what} is not a JSON-RPC 2.0 message (JSON-RPC 2.0 §4, §5.1: -32600)`);
  return [
    { id: 'shape/object-without-jsonrpc', group: 'message-shape', body: utf8('{"id":1,"method":"tools/call","params":{"name":"admin_delete"}}'), expect: notRpc('an object without "jsonrpc"') },
    { id: 'shape/jsonrpc-1.0', group: 'message-shape', body: utf8('{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"admin_delete"}}'), expect: notRpc('"jsonrpc":"1.0"') },
    { id: 'shape/jsonrpc-number', group: 'message-shape', body: utf8('{"jsonrpc":2.0,"id":1,"method":"tools/call","params":{"name":"admin_delete"}}'), expect: notRpc('"jsonrpc":2.0') },
    { id: 'shape/unrelated-object', group: 'message-shape', body: utf8('{"hello":"world"}'), expect: notRpc('{"hello":"world"}') },
    { id: 'shape/string', group: 'message-shape', body: utf8('"tools/call"'), expect: notRpc('a JSON string') },
    { id: 'shape/number', group: 'message-shape', body: utf8('42'), expect: notRpc('a JSON number') },
    { id: 'shape/null', group: 'message-shape', body: utf8('null'), expect: notRpc('null') },
    { id: 'shape/extra-top-level-member', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"extra":{"name":"admin_delete"}}') },
    { id: 'shape/top-level-meta', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"_meta":{}}') },
    { id: 'shape/params-array', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["admin_delete"]}') },
    { id: 'shape/params-null', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}') },
    { id: 'shape/name-not-string', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["admin_delete"]}}') },
    { id: 'shape/method-not-string', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"method":["tools/call"],"params":{"name":"admin_delete"}}') },
    { id: 'shape/response-result', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"result":{}}'), mustForward: true },
    { id: 'shape/response-error', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"no"}}'), mustForward: true },
    { id: 'shape/response-with-method', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,"result":{},"method":"tools/call","params":{"name":"admin_delete"}}') },
    { id: 'shape/trailing-garbage', group: 'message-shape', body: utf8(`${ECHO} {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"admin_delete"}}`) },
    { id: 'shape/two-messages-newline', group: 'message-shape', body: utf8(`${ECHO}\n${toolCall('admin_delete', 2)}`) },
    { id: 'shape/comment', group: 'message-shape', body: utf8('{"jsonrpc":"2.0","id":1,/*x*/"method":"tools/call","params":{"name":"echo"}}') },
    { id: 'shape/single-quotes', group: 'message-shape', body: utf8("{'jsonrpc':'2.0','id':1,'method':'tools/call','params':{'name':'admin_delete'}}") },
    { id: 'shape/empty-body', group: 'message-shape', body: Buffer.alloc(0) },
  ];
}
