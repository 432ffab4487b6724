/**
 * What the gallery server keeps: its signing key, clients, codes, refresh families, sessions, the
 * proofs it has seen, and a record of every request and every tool call (so tests can prove the
 * audit stayed on this origin and called only the probe tool).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { Flaw } from './flaws.js';

export interface GalleryClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  grantTypes: string[];
  scope?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  host: string | undefined;
  origin: string | undefined;
  userAgent: string | undefined;
  /** Credentials as received (Authorization, DPoP), so tests can prove none reaches audit output. */
  authorization: string | undefined;
  dpop: string | undefined;
  body: string;
}

export interface GalleryState {
  flaw: Flaw | undefined;
  /** The resource requires DPoP-bound tokens (and says so in its metadata). */
  requireDpop: boolean;
  /** Another origin the metadata points to (challenge resource_metadata, jwks_uri): the audit must not go there. */
  decoyOrigin: string | undefined;
  /** `http://127.0.0.1:port`, the issuer and the origin of both resources. */
  origin: string;
  resource: string;
  otherResource: string;
  privateKey: CryptoKey;
  publicJwk: JWK & { kid: string };
  /** The public key as node:crypto sees it (the alg-confusion flaw uses its PEM as an HMAC key). */
  publicKeyObject: KeyObject;
  clients: Map<string, GalleryClient>;
  pending: Map<string, { clientId: string; redirectUri: string; challenge: string | undefined; method: string | undefined; state: string | undefined; resource: string; scope: string; dpopJkt: string | undefined }>;
  codes: Map<string, { clientId: string; redirectUri: string; challenge: string | undefined; method: string | undefined; resource: string; scope: string; sub: string; dpopJkt: string | undefined; used: boolean }>;
  refreshTokens: Map<string, { family: string; clientId: string; resource: string; scope: string; sub: string; jkt: string | undefined; used: boolean }>;
  revokedFamilies: Set<string>;
  sessions: Map<string, string>;
  seenProofs: Set<string>;
  requests: RecordedRequest[];
  toolCalls: string[];
  /** Every credential the server handed out: none may appear in audit output. */
  issued: Set<string>;
}

export const USER = { username: 'alice', password: 'gallery-password-alice' };
export const SERVICE_CLIENT = { clientId: 'gallery-service', clientSecret: 'gallery-service-secret-0123456789abcdef' };
export const SECOND_SERVICE_CLIENT = { clientId: 'gallery-service-2', clientSecret: 'gallery-service-2-secret-0123456789abcd' };
export const SCOPES = { tools: 'mcp:tools', admin: 'mcp:admin' } as const;

export async function createState(origin: string, flaw: Flaw | undefined, requireDpop: boolean, decoyOrigin?: string): Promise<GalleryState> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'gallery-key-1', alg: 'ES256', use: 'sig' };
  const clients = new Map<string, GalleryClient>();
  for (const c of [SERVICE_CLIENT, SECOND_SERVICE_CLIENT]) clients.set(c.clientId, { ...c, redirectUris: [], grantTypes: ['client_credentials'], scope: SCOPES.tools });
  return {
    flaw,
    requireDpop,
    decoyOrigin,
    origin,
    resource: `${origin}/mcp`,
    otherResource: `${origin}/other-mcp`,
    privateKey,
    publicJwk,
    publicKeyObject: createPublicKey({ key: publicJwk as never, format: 'jwk' }),
    clients,
    pending: new Map(),
    codes: new Map(),
    refreshTokens: new Map(),
    revokedFamilies: new Set(),
    sessions: new Map(),
    seenProofs: new Set(),
    requests: [],
    toolCalls: [],
    issued: new Set(),
  };
}
