export { compilePolicy, PolicyCompileError, type CompiledPolicy, type CompiledRule } from './compile-policy.js';
export { decide, couldCall, subjectBindings, type CallBindings, type SubjectBindings } from './decide.js';
export { enforcePolicy, callOf } from './enforce-policy.js';
export { PolicyDeniedError } from './policy-denied-error.js';
export { toolVisibility, listsTools, type ToolVisibility } from './tool-visibility.js';
export { POLICY_VARIABLES } from './cel-environment.js';
export type { PolicyDecision, PolicyOptions, PolicyRuleOptions } from './types.js';
export { explainRules, type RuleTrace } from './explain.js';
