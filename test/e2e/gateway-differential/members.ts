/**
 * Member names spelled so that a lenient decoder reads them as a JSON-RPC/MCP member Warden did
 * not see: every (member × spelling × arrangement) where the spelling differs from the name.
 */
import { INVALID_REQUEST, type DiffCase } from './case.js';
import { callParams, object, utf8, type Member } from './json-text.js';

interface Spelling {
  kind: string;
  /** True when a lenient decoder folds this spelling into the original name (case-insensitive match). */
  folds: boolean;
  /** The spelling as JSON source, or undefined when it does not apply to `name`. */
  spell(name: string): string | undefined;
}

const escape = (char: string): string => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`;
const replaceAll = (name: string, from: string, to: string): string | undefined => (name.includes(from) ? name.split(from).join(to) : undefined);
const FULLWIDTH = (name: string): string => [...name].map((c) => (/[!-~]/.test(c) ? String.fromCodePoint(c.charCodeAt(0) + 0xfee0) : c)).join('');

const SPELLINGS: readonly Spelling[] = [
  // Case-insensitive decoders (Go encoding/json, Jackson ACCEPT_CASE_INSENSITIVE_PROPERTIES, .NET
  // PropertyNameCaseInsensitive) match these against the schema name.
  { kind: 'ascii-upper', folds: true, spell: (n) => n.toUpperCase() },
  { kind: 'ascii-title', folds: true, spell: (n) => n[0]!.toUpperCase() + n.slice(1) },
  { kind: 'ascii-mixed', folds: true, spell: (n) => (n.length < 2 ? undefined : [...n].map((c, i) => (i % 2 === 1 ? c.toUpperCase() : c)).join('')) },
  // Unicode simple case folding: U+017F folds to 's', U+212A to 'k' (Go's encoding/json applies
  // exactly these two), U+0131 upper-cases to 'I' and U+0130 lower-cases to 'i' (.NET, Java).
  { kind: 'long-s', folds: true, spell: (n) => replaceAll(n, 's', 'ſ') },
  { kind: 'long-s-escaped', folds: true, spell: (n) => replaceAll(n, 's', escape('ſ')) },
  { kind: 'upper-long-s', folds: true, spell: (n) => replaceAll(n.toUpperCase(), 'S', 'ſ') },
  { kind: 'kelvin', folds: true, spell: (n) => replaceAll(n, 'k', 'K') },
  { kind: 'kelvin-escaped', folds: true, spell: (n) => replaceAll(n, 'k', escape('K')) },
  { kind: 'dotless-i', folds: true, spell: (n) => replaceAll(n, 'i', 'ı') },
  { kind: 'dotless-i-escaped', folds: true, spell: (n) => replaceAll(n, 'i', escape('ı')) },
  { kind: 'dotted-capital-i', folds: true, spell: (n) => replaceAll(n, 'i', 'İ') },
  { kind: 'dotted-capital-i-escaped', folds: true, spell: (n) => replaceAll(n, 'i', escape('İ')) },
  // Look-alikes no decoder used here folds (NFKC would fold the fullwidth forms): they must not
  // reach an upstream as members either, since some decoder or middlebox normalises them.
  { kind: 'fullwidth', folds: false, spell: (n) => FULLWIDTH(n) },
  { kind: 'fullwidth-escaped', folds: false, spell: (n) => [...FULLWIDTH(n)].map(escape).join('') },
  { kind: 'trailing-nul-escaped', folds: false, spell: (n) => `${n}\\u0000` },
  { kind: 'leading-space', folds: false, spell: (n) => ` ${n}` },
  { kind: 'trailing-space', folds: false, spell: (n) => `${n} ` },
  { kind: 'trailing-tab-escaped', folds: false, spell: (n) => `${n}\\t` },
  { kind: 'bom-before', folds: false, spell: (n) => `\uFEFF${n}` },
  { kind: 'bom-before-escaped', folds: false, spell: (n) => `\\ufeff${n}` },
  { kind: 'bom-inside', folds: false, spell: (n) => `${n.slice(0, 2)}\uFEFF${n.slice(2)}` },
  { kind: 'zero-width-space-inside', folds: false, spell: (n) => `${n.slice(0, 2)}\u200B${n.slice(2)}` },
  { kind: 'zero-width-space-escaped', folds: false, spell: (n) => `${n.slice(0, 2)}\\u200b${n.slice(2)}` },
  { kind: 'zero-width-joiner-after', folds: false, spell: (n) => `${n}\u200D` },
  { kind: 'soft-hyphen-escaped', folds: false, spell: (n) => `${n.slice(0, 2)}\\u00ad${n.slice(2)}` },
];

type Arrangement = 'shadow-after' | 'shadow-before' | 'alone';

/**
 * One family of member-name cases: the member, where it sits, and how a message is assembled from
 * the real member (harmless value) and the spelled one (the value an attacker wants read).
 */
interface MemberFamily {
  member: string;
  /** Top-level JSON-RPC member (the contract refuses folds of these) or a member inside params. */
  level: 'message' | 'params';
  arrangements: readonly Arrangement[];
  build(arrangement: Arrangement, spelled: string): string;
}

/** Assembles `[...before, real?, spelled, ...after]` in the order the arrangement says. */
function arrange(arrangement: Arrangement, real: Member, spelled: Member): Member[] {
  if (arrangement === 'shadow-after') return [real, spelled];
  if (arrangement === 'shadow-before') return [spelled, real];
  return [spelled];
}

const ALL: readonly Arrangement[] = ['shadow-after', 'shadow-before', 'alone'];

const MEMBER_FAMILIES: readonly MemberFamily[] = [
  {
    // Warden reads params.name "echo"; a folding decoder reads the spelled params (admin_delete).
    member: 'params',
    level: 'message',
    arrangements: ALL,
    build: (a, s) =>
      object([['jsonrpc', '"2.0"'], ['id', '1'], ['method', '"tools/call"'], ...arrange(a, ['params', callParams('echo')], [s, callParams('admin_delete')])]),
  },
  {
    // Warden reads tools/list (no tool, default scope); a folding decoder reads tools/call.
    member: 'method',
    level: 'message',
    arrangements: ALL,
    build: (a, s) =>
      object([['jsonrpc', '"2.0"'], ['id', '1'], ...arrange(a, ['method', '"tools/list"'], [s, '"tools/call"']), ['params', callParams('admin_delete')]]),
  },
  {
    // Warden reads a non-JSON-RPC message (no scopes per tool); a folding decoder reads "2.0".
    member: 'jsonrpc',
    level: 'message',
    arrangements: ALL,
    build: (a, s) =>
      object([...arrange(a, ['jsonrpc', '"1.0"'], [s, '"2.0"']), ['id', '1'], ['method', '"tools/call"'], ['params', callParams('admin_delete')]]),
  },
  {
    // Request or notification, depending on the reader.
    member: 'id',
    level: 'message',
    arrangements: ['shadow-after', 'alone'],
    build: (a, s) => object([['jsonrpc', '"2.0"'], ...arrange(a, ['id', '1'], [s, '2']), ['method', '"tools/call"'], ['params', callParams('echo')]]),
  },
  {
    member: 'name',
    level: 'params',
    arrangements: ALL,
    build: (a, s) =>
      object([
        ['jsonrpc', '"2.0"'],
        ['id', '1'],
        ['method', '"tools/call"'],
        ['params', object([...arrange(a, ['name', '"echo"'], [s, '"admin_delete"']), ['arguments', '{}']])],
      ]),
  },
  {
    member: 'arguments',
    level: 'params',
    arrangements: ['shadow-after'],
    build: (a, s) =>
      object([
        ['jsonrpc', '"2.0"'],
        ['id', '1'],
        ['method', '"tools/call"'],
        ['params', object([['name', '"echo"'], ...arrange(a, ['arguments', '{"text":"seen by warden"}'], [s, '{"text":"seen upstream"}'])])],
      ]),
  },
];


/** Every member × spelling × arrangement; folds of top-level members carry the 400 -32600 expectation. */
export function memberCases(): DiffCase[] {
  const cases: DiffCase[] = [];
  for (const family of MEMBER_FAMILIES) {
    const seen = new Set<string>();
    for (const spelling of SPELLINGS) {
      const spelled = spelling.spell(family.member);
      if (spelled === undefined || spelled === family.member || seen.has(spelled)) continue;
      seen.add(spelled);
      for (const arrangement of family.arrangements) {
        const c: DiffCase = {
          id: `member/${family.member}/${spelling.kind}/${arrangement}`,
          group: spelling.folds ? 'member-fold' : 'member-lookalike',
          body: utf8(family.build(arrangement, spelled)),
        };
        if (spelling.folds && family.level === 'message') {
          c.expect = INVALID_REQUEST(`"${spelled}" folds to the JSON-RPC member "${family.member}" in a case-insensitive decoder (DESIGN: refused, 400)`);
        }
        cases.push(c);
      }
    }
  }
  return cases;
}
