/** The `warden` server: every configured piece on one node:http server. */
export { StackStartError, startStack } from './stack.js';
export type { RunningStack, StackTokenOptions, StartStackOptions } from './stack.js';
export { STACK_FILE, writeStackFile } from './stack-file.js';
export type { StackInfo } from './stack-file.js';
