/** JSON values readers disagree on: duplicate member names (RFC 8259 §4), numbers (§6), deep nesting. */
import { INVALID_REQUEST, type DiffCase } from './case.js';
import { callParams, ECHO, object, utf8, type Member } from './json-text.js';

/** Duplicate member names at every level: JSON.parse keeps the last, other readers the first or both. */
export function duplicateCases(): DiffCase[] {
  const rule = (what: string) => INVALID_REQUEST(`duplicate member ${what}: parsers disagree on which one counts (RFC 8259 §4)`);
  const top = (members: Member[]): Buffer => utf8(object(members));
  return [
    {
      id: 'duplicate/params/echo-then-admin',
      group: 'duplicate-member',
      body: top([['jsonrpc', '"2.0"'], ['id', '1'], ['method', '"tools/call"'], ['params', callParams('echo')], ['params', callParams('admin_delete')]]),
      expect: rule('"params"'),
    },
    {
      id: 'duplicate/params/admin-then-echo',
      group: 'duplicate-member',
      body: top([['jsonrpc', '"2.0"'], ['id', '1'], ['method', '"tools/call"'], ['params', callParams('admin_delete')], ['params', callParams('echo')]]),
      expect: rule('"params"'),
    },
    {
      id: 'duplicate/params/null-then-echo',
      group: 'duplicate-member',
      body: top([['jsonrpc', '"2.0"'], ['id', '1'], ['method', '"tools/call"'], ['params', 'null'], ['params', callParams('echo')]]),
      expect: rule('"params"'),
    },
    {
      id: 'duplicate/name/echo-then-admin',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"admin_delete"}}'),
      expect: rule('"name" in params'),
    },
    {
      id: 'duplicate/name/admin-then-echo',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_delete","name":"echo"}}'),
      expect: rule('"name" in params'),
    },
    {
      id: 'duplicate/name/escaped-spelling',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_delete","n\\u0061me":"echo"}}'),
      expect: rule('"name" (once spelled n\\u0061me) in params'),
    },
    {
      id: 'duplicate/method/call-then-list',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"admin_delete"}}'),
      expect: rule('"method"'),
    },
    {
      id: 'duplicate/method/escaped-spelling',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","m\\u0065thod":"tools/list","params":{"name":"admin_delete"}}'),
      expect: rule('"method" (once spelled m\\u0065thod)'),
    },
    {
      id: 'duplicate/jsonrpc/2.0-then-1.0',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"admin_delete"}}'),
      expect: rule('"jsonrpc"'),
    },
    {
      id: 'duplicate/id',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"echo"}}'),
      expect: rule('"id"'),
    },
    {
      id: 'duplicate/arguments-member',
      group: 'duplicate-member',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","text":"b"}}}'),
      expect: rule('"text" in arguments'),
    },
    {
      id: 'duplicate/in-batch-member',
      group: 'duplicate-member',
      body: utf8(`[${ECHO},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"},"params":{"name":"admin_delete"}}]`),
      expect: rule('"params" in a batch element'),
    },
  ];
}

/** Ids and arguments JSON.parse reads inexactly, and values only lenient readers accept. */
export function numberCases(): DiffCase[] {
  const withId = (id: string) => utf8(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo"}}`);
  const beyond = (literal: string) => INVALID_REQUEST(`${literal} is an integer JSON.parse cannot represent exactly (beyond ±(2^53−1)); other readers keep it exact (RFC 8259 §6)`);
  return [
    { id: 'number/id-1e400', group: 'number', body: withId('1e400'), expect: beyond('1e400') },
    { id: 'number/id-2^64', group: 'number', body: withId('18446744073709551616'), expect: beyond('18446744073709551616') },
    { id: 'number/id--2^64', group: 'number', body: withId('-18446744073709551616'), expect: beyond('-18446744073709551616') },
    { id: 'number/id-2^53+1', group: 'number', body: withId('9007199254740993'), expect: beyond('9007199254740993') },
    { id: 'number/id-1e20', group: 'number', body: withId('1e20'), expect: beyond('1e20') },
    {
      id: 'number/argument-2^64+1',
      group: 'number',
      body: utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"n":18446744073709551617}}}'),
      expect: beyond('18446744073709551617'),
    },
    { id: 'number/id-2^53-1', group: 'number', body: withId('9007199254740991'), mustForward: true },
    { id: 'number/id-negative-zero', group: 'number', body: withId('-0') },
    { id: 'number/id-fraction', group: 'number', body: withId('1.5') },
    { id: 'number/id-exponent', group: 'number', body: withId('1E2') },
    { id: 'number/id-string', group: 'number', body: withId('"abc"'), mustForward: true },
    { id: 'number/id-true', group: 'number', body: withId('true') },
    { id: 'number/id-object', group: 'number', body: withId('{"a":1}') },
    { id: 'number/nan', group: 'number', body: withId('NaN') },
    { id: 'number/infinity', group: 'number', body: withId('Infinity') },
  ];
}

/** Deep nesting: readers have different depth limits (Go 10 000, Python's recursion limit, V8's stack). */
export function nestingCases(): DiffCase[] {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const withArgument = (value: string) => utf8(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"deep":${value}}}}`);
  return [
    { id: 'nesting/arrays-64', group: 'nesting', body: withArgument(nested(64)) },
    { id: 'nesting/arrays-1000', group: 'nesting', body: withArgument(nested(1_000)) },
    { id: 'nesting/arrays-20000', group: 'nesting', body: withArgument(nested(20_000)) },
    { id: 'nesting/objects-20000', group: 'nesting', body: withArgument(nestedObjects(20_000)) },
    { id: 'nesting/arrays-200000', group: 'nesting', body: withArgument(nested(200_000)) },
  ];
}
