/**
 * Compiles a resource's CEL policy once, at set-up: each rule parsed and type-checked in the
 * policy environment, so a broken rule fails the load with its name, line and column.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import { NameSet } from '../../mcp/lookalike-names.js';
import { MAX_EXPRESSION_LENGTH, policyEnvironment } from './cel-environment.js';
import type { PolicyOptions, PolicyRuleOptions } from './types.js';

/** A rule ready to evaluate. */
export interface CompiledRule {
  readonly name: string;
  readonly effect: 'allow' | 'deny';
  /** Undefined: every request message; else `tools/call` of one of these. */
  readonly tools: ReadonlySet<string> | undefined;
  /** Whether the expression reads `arguments` (then `tools/list` cannot judge it). */
  readonly readsArguments: boolean;
  readonly evaluate: ParseResult;
}

/** A compiled policy; frozen. */
export interface CompiledPolicy {
  readonly rules: readonly CompiledRule[];
  /** The groups claim as a path of member names. */
  readonly groupsClaim: readonly string[];
  /** Every tool some rule names, for refusing lookalike names (`DELETE_FILE` for `delete_file`). */
  readonly tools: NameSet;
}

/** A rule that does not compile: where (`line`, `column`, 1-based) and why. */
export class PolicyCompileError extends Error {
  readonly rule: string;
  /** `allow`, `deny`, `tools`, `name` or `rules`: the member of the rule at fault. */
  readonly member: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(rule: string, member: string, reason: string, at?: { line: number; column: number }) {
    super(`policy rule ${JSON.stringify(rule)} ${member}${at === undefined ? '' : ` (line ${at.line}, column ${at.column})`}: ${reason}`);
    this.name = 'PolicyCompileError';
    this.rule = rule;
    this.member = member;
    this.line = at?.line;
    this.column = at?.column;
  }
}

const RULE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const CLAIM_PATH = /^[A-Za-z0-9_:$-]+(?:\.[A-Za-z0-9_:$-]+)*$/;

/**
 * Compiles `options`.
 *
 * @throws {PolicyCompileError} for the first rule that is malformed or does not compile.
 */
export function compilePolicy(options: PolicyOptions): CompiledPolicy {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.rules)) throw new PolicyCompileError('(policy)', 'rules', 'must be a list of rules');
  const groupsClaim = options.groupsClaim ?? 'groups';
  if (typeof groupsClaim !== 'string' || !CLAIM_PATH.test(groupsClaim)) throw new PolicyCompileError('(policy)', 'groupsClaim', 'must be a claim name or a dotted path such as realm_access.roles');
  const seen = new Set<string>();
  const rules = options.rules.map((rule, index) => {
    const compiled = compileRule(rule, index);
    if (seen.has(compiled.name)) throw new PolicyCompileError(compiled.name, 'name', 'is used by another rule: names must be unique, refusals name them');
    seen.add(compiled.name);
    return compiled;
  });
  const tools = new NameSet(rules.flatMap((r) => (r.tools === undefined ? [] : [...r.tools])));
  return Object.freeze({ rules: Object.freeze(rules), groupsClaim: Object.freeze(groupsClaim.split('.')), tools });
}

function compileRule(rule: PolicyRuleOptions, index: number): CompiledRule {
  if (rule === null || typeof rule !== 'object') throw new PolicyCompileError(`#${index + 1}`, 'rules', 'must be an object { name, tools?, allow | deny }');
  const name = rule.name;
  if (typeof name !== 'string' || !RULE_NAME.test(name)) throw new PolicyCompileError(typeof name === 'string' ? name : `#${index + 1}`, 'name', 'must be a slug: lowercase letters, digits, "_", "." and "-", at most 64 characters');
  if ((rule.allow === undefined) === (rule.deny === undefined)) throw new PolicyCompileError(name, 'allow', 'set exactly one of allow or deny');
  const effect = rule.allow !== undefined ? 'allow' : 'deny';
  let tools: Set<string> | undefined;
  if (rule.tools !== undefined) {
    if (!Array.isArray(rule.tools) || rule.tools.length === 0 || rule.tools.some((t) => typeof t !== 'string' || t.length === 0)) {
      throw new PolicyCompileError(name, 'tools', 'must be a non-empty list of tool names (omit it for a rule about every request)');
    }
    tools = new Set(rule.tools);
  }
  const expression = rule[effect];
  if (typeof expression !== 'string' || expression.trim() === '') throw new PolicyCompileError(name, effect, 'must be a CEL expression');
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new PolicyCompileError(name, effect, `is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let evaluate: ParseResult;
  try {
    evaluate = policyEnvironment().parse(expression);
  } catch (error) {
    throw celError(name, effect, expression, error);
  }
  const checked = evaluate.check();
  if (!checked.valid) throw celError(name, effect, expression, checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new PolicyCompileError(name, effect, `must evaluate to a bool, not ${checked.type ?? 'an unknown type'}`);
  return Object.freeze({ name, effect, tools, readsArguments: readsArguments(evaluate.ast), evaluate });
}

/** A parse or type error as a {@link PolicyCompileError} with the line and column it points at. */
function celError(name: string, member: string, expression: string, error: unknown): PolicyCompileError {
  const e = error as { summary?: unknown; message?: unknown; range?: { start?: unknown } } | undefined;
  const reason = typeof e?.summary === 'string' ? e.summary : typeof e?.message === 'string' ? e.message.split('\n')[0]! : 'does not compile';
  const start = e?.range?.start;
  return new PolicyCompileError(name, member, reason, typeof start === 'number' ? lineAndColumn(expression, start) : undefined);
}

/** 1-based line and column (in UTF-16 code units) of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Whether the expression names `arguments` anywhere. Judged on the AST; an AST this walk does
 * not recognise counts as reading it (conservative: `tools/list` then keeps the tool listed, and
 * the call is still judged in full).
 */
function readsArguments(ast: unknown): boolean {
  let recognised = false;
  const visit = (node: unknown, depth: number): boolean => {
    if (depth > 256 || node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) return node.some((n) => visit(n, depth + 1));
    const { op, args } = node as { op?: unknown; args?: unknown };
    if (typeof op !== 'string') return false;
    recognised = true;
    if (op === 'id') return args === 'arguments';
    return visit(args, depth + 1);
  };
  return visit(ast, 0) || !recognised;
}
