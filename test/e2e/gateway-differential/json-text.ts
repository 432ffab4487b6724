/**
 * Writing JSON text by hand: member names are JSON *source*, so a case can spell a name with a raw
 * character or a \uXXXX escape, or repeat a member — which no serializer does. Also the UTF-16
 * and UTF-32 encoders for bodies in other encodings.
 */

/** A member as JSON source: `"<key>":<value>`; `key` is the inside of the quotes, escapes and all. */
export type Member = readonly [key: string, value: string];

/** A JSON object from members written as source, in the given order (repeats kept). */
export function object(members: readonly Member[]): string {
  return `{${members.map(([key, value]) => `"${key}":${value}`).join(',')}}`;
}

export const json = (value: unknown): string => JSON.stringify(value);
export const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** `{"name":<tool>,"arguments":{}}` */
export const callParams = (tool: string): string => object([['name', json(tool)], ['arguments', '{}']]);

/** A complete `tools/call` request as JSON text. */
export function toolCall(tool: string, id: number | string = 1): string {
  return object([['jsonrpc', '"2.0"'], ['id', json(id)], ['method', '"tools/call"'], ['params', callParams(tool)]]);
}

export const ECHO = toolCall('echo');
export const ADMIN = toolCall('admin_delete');

/** `text` as UTF-16 (little or big endian), optionally behind a BOM. */
export function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from((bom ? '\uFEFF' : '') + text, 'utf16le');
  if (order === 'le') return le;
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  return be;
}

/** `text` as UTF-32 (little or big endian), optionally behind a BOM. */
export function utf32(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const points = [...((bom ? '\uFEFF' : '') + text)].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(points.length * 4);
  points.forEach((p, i) => (order === 'le' ? out.writeUInt32LE(p, i * 4) : out.writeUInt32BE(p, i * 4)));
  return out;
}
