export { verifyProof, type VerifiedProof, type VerifyProofOptions } from './verify-proof.js';
export { createNonceManager, type NonceManager, type NonceManagerOptions, type NonceState } from './nonce.js';
export { ProofKeyCache, ProofKeyError, type KnownProofHeader, type ProofKey } from './proof-key-cache.js';
export { createProof, type CreateProofOptions } from './create-proof.js';
export { replayKey } from './replay-key.js';
