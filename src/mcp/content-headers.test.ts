import { describe, expect, it } from 'vitest';
import { checkBodyEncoding, isJsonMediaType, parseMediaType } from './content-headers.js';
import { MessageRefusedError } from './message-refused-error.js';

describe('parseMediaType (RFC 9110 §8.3.1)', () => {
  it('reads type, subtype and parameters, quoted or not', () => {
    expect(parseMediaType('Application/JSON; Charset="utf-8"')).toEqual({ essence: 'application/json', parameters: new Map([['charset', 'utf-8']]) });
    expect(isJsonMediaType(parseMediaType('application/vnd.api+json')!)).toBe(true);
    expect(isJsonMediaType(parseMediaType('text/plain')!)).toBe(false);
  });
  it.each(['json', 'application/', 'application/json; charset', 'application/json; charset="utf-8', 'application/json; a=1; a=2', 'a b/c'])('%j is malformed', (v) => {
    expect(parseMediaType(v)).toBeUndefined();
  });
});

describe('checkBodyEncoding: bodies are UTF-8 with no content coding (RFC 8259 §8.1, RFC 9110 §15.5.16)', () => {
  const status = (types: string[], encodings: string[] = []) => {
    try {
      checkBodyEncoding(types, encodings);
      return 200;
    } catch (error) {
      if (error instanceof MessageRefusedError) return error.status;
      throw error;
    }
  };
  it('accepts JSON, JSON with charset=utf-8, identity coding, and no content type', () => {
    expect(status(['application/json'])).toBe(200);
    expect(status(['application/json; charset=UTF-8'], ['identity'])).toBe(200);
    expect(status([])).toBe(200);
  });
  it.each([
    [['application/json; charset=utf-7'], [], 415],
    [['application/json; charset=utf-16le'], [], 415],
    [['application/json; charset=iso-8859-1'], [], 415],
    [['application/json'], ['gzip'], 415],
    [['application/json'], ['identity, br'], 415],
    [['application/json', 'text/plain'], [], 400],
    [['application/json; charset="utf-8'], [], 400],
  ])('%j with %j → %i', (types, encodings, expected) => {
    expect(status(types, encodings)).toBe(expected);
  });
});
