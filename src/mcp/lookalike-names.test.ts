import { describe, expect, it } from 'vitest';
import { foldedCollision, foldName, NameSet } from './lookalike-names.js';

describe('foldName: the key under which some decoder reads two names as one (GHSA-wvj2-96wp-fq3f)', () => {
  it.each([
    ['params', 'PARAMS'], ['params', 'Params'], ['params', 'paramſ'], ['params', 'param\u017f'],
    ['key', '\u212aey'], ['id', 'ıd'], ['id', 'İd'], ['name', 'name\u0000'], ['name', 'name\u0000garbage'],
    ['name', ' name'], ['name', 'name\t'], ['name', '\ufeffname'], ['name', 'na\u200bme'], ['name', 'ｎａｍｅ'],
    ['jsonrpc', 'jſonrpc'], ['tools/call', 'TOOLS/CALL'],
  ])('%s ~ %j', (a, b) => {
    expect(foldName(b)).toBe(foldName(a));
  });

  it.each([['name', 'names'], ['params', 'param'], ['echo', 'admin_reset'], ['a', 'b']])('%s ≁ %s', (a, b) => {
    expect(foldName(a)).not.toBe(foldName(b));
  });
});

describe('NameSet', () => {
  const set = new NameSet(['jsonrpc', 'method', 'params']);
  it('exact names are not lookalikes; folded variants name what they stand for; others are unrelated', () => {
    expect(set.lookalikeOf('params')).toBeUndefined();
    expect(set.lookalikeOf('Params')).toBe('params');
    expect(set.lookalikeOf('jſonrpc')).toBe('jsonrpc');
    expect(set.lookalikeOf('extra')).toBeUndefined();
  });
});

describe('foldedCollision', () => {
  it('finds two names of one object that fold together, at any depth; none in plain JSON', () => {
    expect(foldedCollision({ a: 1, A: 2 })).toEqual(['a', 'A']);
    expect(foldedCollision({ x: [{ y: { path: 1, PATH: 2 } }] })).toEqual(['path', 'PATH']);
    expect(foldedCollision({ a: { a: { a: 1 } }, b: [1, 'A'] })).toBeUndefined();
  });
});
