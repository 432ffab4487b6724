/**
 * `resources[].policy`: CEL rules per resource and per tool. Each rule is compiled while the
 * configuration is validated, so a broken rule fails the load (exit 2) with its key path, name,
 * line and column.
 */
import { z } from 'zod';
import { compilePolicy, PolicyCompileError } from '../resource-server/policy/compile-policy.js';

const rule = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'expected a slug: lowercase letters, digits, "_", "." and "-", at most 64 characters'),
    tools: z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one tool, or omit tools for a rule about every request').optional(),
    allow: z.string().min(1, 'must be a CEL expression').optional(),
    deny: z.string().min(1, 'must be a CEL expression').optional(),
  })
  .strict('allowed keys: name, tools, allow, deny');

/** The schema of `resources[].policy`. */
export const policySchema = z
  .object({
    groupsClaim: z.string().regex(/^[A-Za-z0-9_:$-]+(?:\.[A-Za-z0-9_:$-]+)*$/, 'expected a claim name or a dotted path such as realm_access.roles').optional(),
    rules: z.array(rule),
  })
  .strict('allowed keys: groupsClaim, rules')
  .superRefine((policy, ctx) => {
    policy.rules.forEach((r, index) => {
      if ((r.allow === undefined) === (r.deny === undefined)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', index], message: 'set exactly one of allow or deny' });
        return;
      }
      try {
        compilePolicy({ rules: [r] });
      } catch (error) {
        if (!(error instanceof PolicyCompileError)) throw error;
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', index, error.member], message: error.message });
      }
    });
    const seen = new Map<string, number>();
    policy.rules.forEach((r, index) => {
      const first = seen.get(r.name);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', index, 'name'], message: `duplicate name ${JSON.stringify(r.name)} (also rules[${first}].name): refusals name rules` });
      else seen.set(r.name, index);
    });
  });

/** `resources[].policy` as written. */
export type PolicyInput = z.infer<typeof policySchema>;
