export * from './errors.js';
export { formatChallenge, quoteSafe, type ChallengeParams } from './challenge.js';
export { canonicalResourceUri, expectedHtu, htuComparisonForm } from './canonical-uri.js';
export { isScopeToken, missingScopes, parseScope } from './scope.js';
