/**
 * Tokens an attacker can make without the issuer's key — a flipped signature bit, `alg: none`,
 * HMAC keyed with the issuer's public key, a key the token carries itself — and tokens the issuer
 * made for something else (another resource, an ID token). The resource server must refuse all.
 */
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { defineCheck, type CheckRun } from '../check.js';
import type { Credential } from '../context.js';
import { asSupportsDpop, clientCredentialsToken, errorOf, isDpop, requireCredential, requireProtected, type TokenResponse } from '../credentials.js';
import { signInGrant } from '../sign-in.js';
import { authorizationServer, authorizationServerMetadata, endpoint, jsonObject, resourceMetadata, scopesToRequest } from '../discovery.js';
import { decodeJwt, embeddedKeyJwt, foreignSignatureJwt, hmacJwt, synthesizedClaims, tamperedSignature, unsecuredJwt, type DecodedJwt } from '../forge-token.js';
import type { Exchange } from '../http-client.js';
import { initializeBody, served } from '../mcp-messages.js';
import type { ProofKey } from '../proof-key.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';
import { jwkThumbprint } from '../../jose/thumbprint.js';

/** What forgeries are built from: a real token's header and claims, or synthesised ones. */
interface ForgeryBase extends DecodedJwt {
  /** The real token, when forgeries derive from one. */
  token?: string;
  /** The key proofs are signed with (the real token's, or the audit's when the synthesised claims are bound to it). */
  key?: ProofKey;
  origin: string;
}

function forgeryBase(run: CheckRun): Promise<ForgeryBase> {
  const { ctx } = run;
  return ctx.memo('forgery-base', async (): Promise<ForgeryBase> => {
    await requireProtected(ctx);
    // A real token the target accepts makes the best base: only the forgery differs from it.
    const credential = await requireCredential(ctx).catch(() => undefined);
    const decoded = credential === undefined ? undefined : decodeJwt(credential.token);
    if (credential !== undefined && decoded !== undefined) {
      return { ...decoded, token: credential.token, ...(credential.key && { key: credential.key }), origin: credential.label };
    }
    const issuer = (await authorizationServerMetadata(ctx))?.document.issuer ?? (await authorizationServer(ctx));
    if (typeof issuer !== 'string') skip('no issuer is known to forge tokens for (and no JWT access token was supplied)');
    const bound = (await resourceMetadata(ctx))?.document.dpop_bound_access_tokens_required === true;
    const payload = synthesizedClaims({ issuer, audience: ctx.target.canonical, scopes: await scopesToRequest(ctx), ...(bound && { jkt: ctx.auditKey.thumbprint }) });
    const kid = (await issuerKeys(run))[0]?.kid;
    const header: Record<string, unknown> = { typ: 'at+jwt', alg: 'ES256', ...(typeof kid === 'string' && { kid }) };
    return { header, payload, ...(bound && { key: ctx.auditKey }), origin: 'claims made up from the metadata' };
  });
}

/** The issuer's published keys (jwks_uri), [] when unavailable. */
function issuerKeys(run: CheckRun): Promise<Array<Record<string, unknown>>> {
  return run.ctx.memo('issuer-jwks', async () => {
    const url = await endpoint(run.ctx, 'jwks_uri');
    if (url === undefined) return [];
    const document = jsonObject(await run.ctx.send({ method: 'GET', url, headers: { accept: 'application/json' } }));
    const keys = document?.keys;
    return Array.isArray(keys) ? keys.filter((k): k is Record<string, unknown> => k !== null && typeof k === 'object') : [];
  });
}

/** A token for another resource: by client credentials when the audit has a client, else by a second sign-in. */
async function tokenFor(run: CheckRun, resource: string): Promise<{ response: TokenResponse; how: string }> {
  const { ctx } = run;
  if (ctx.options.clientId !== undefined && ctx.options.clientSecret !== undefined) {
    return { response: await clientCredentialsToken(ctx, resource, await asSupportsDpop(ctx)), how: 'client_credentials' };
  }
  if (ctx.options.signIn === undefined) skip('needs --client-id/--client-secret or --sign-in to get a token for --other-resource');
  const grant = await signInGrant(ctx, resource);
  if ('reason' in grant) inconclusive(`the sign-in for ${resource} did not complete: ${grant.reason}`);
  return { response: grant.tokens, how: 'a second sign-in' };
}

/** Presents a forged token (with a valid proof when the claims are bound) and says whether it was served. */
async function present(run: CheckRun, base: ForgeryBase, token: string, note: string): Promise<Exchange> {
  run.ctx.redactor.add(token);
  const credential: Credential = { token, ...(base.key && { key: base.key }), label: 'a forged token' };
  return run.ctx.authorized(credential, { body: initializeBody(), note });
}

async function firstServed(run: CheckRun, base: ForgeryBase, forgeries: Array<{ token: string; note: string }>): Promise<Exchange | undefined> {
  for (const forgery of forgeries) {
    const exchange = await present(run, base, forgery.token, forgery.note);
    if (served(exchange.response)) return exchange;
  }
  return undefined;
}

const SOURCE = (base: ForgeryBase) => (base.token !== undefined ? 'the supplied token' : 'claims the audit made up from the metadata');

export const forgedTokenChecks = [
  defineCheck({
    id: 'tokens.signature-not-verified',
    area: 'tokens',
    severity: 'critical',
    title: 'Token signatures are not verified',
    summary: 'Presents the token with one signature bit flipped (without a token: claims signed by a key of the audit\'s, naming the issuer\'s kid).',
    standards: [STANDARDS.rfc9068Validation, STANDARDS.rfc8725ValidateAllCrypto],
    fix: 'Verify every access token\'s signature with the issuer\'s published keys before reading any claim.',
    needs: [],
    async run(run) {
      const base = await forgeryBase(run);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = base.token !== undefined ? tamperedSignature(base.token) : foreignSignatureJwt(base.header, base.payload, { privateKey });
      const exchange = await firstServed(run, base, [{ token, note: base.token ? 'the token with one signature bit flipped' : 'claims signed by a key the issuer never published' }]);
      if (exchange) run.fail(`A token with an invalid signature (from ${SOURCE(base)}) was served.`, [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.alg-none',
    area: 'tokens',
    impliedBy: ['tokens.signature-not-verified'],
    severity: 'critical',
    title: 'Unsigned tokens (alg "none") are accepted',
    summary: 'Presents the claims as an unsecured JWT: alg "none" (and "NONE"), empty signature.',
    standards: [STANDARDS.rfc8725AlgorithmVerification, STANDARDS.rfc9068Validation],
    fix: 'Allow-list the asymmetric algorithms the issuer uses; never accept "none".',
    needs: [],
    async run(run) {
      const base = await forgeryBase(run);
      const exchange = await firstServed(run, base, [
        { token: unsecuredJwt(base.header, base.payload, 'none'), note: 'alg "none", no signature' },
        { token: unsecuredJwt(base.header, base.payload, 'NONE'), note: 'alg "NONE", no signature' },
      ]);
      if (exchange) run.fail(`An unsigned token (from ${SOURCE(base)}) was served.`, [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.alg-confusion',
    area: 'tokens',
    impliedBy: ['tokens.signature-not-verified'],
    severity: 'critical',
    title: 'Tokens MACed with the issuer\'s public key are accepted (algorithm confusion)',
    summary: 'Presents the claims signed with HS256 whose key is the issuer\'s public key (PEM, as a library that takes "a key" for any alg would use it).',
    standards: [STANDARDS.rfc8725AlgorithmVerification],
    fix: 'Bind each key to its algorithm (never let a token\'s alg choose how a key is used) and never accept HMAC algorithms for tokens signed with public keys.',
    needs: [],
    async run(run) {
      const base = await forgeryBase(run);
      const jwk = (await issuerKeys(run)).find((k) => k.kty === 'RSA' || k.kty === 'EC' || k.kty === 'OKP');
      if (jwk === undefined) skip('the issuer publishes no public key to confuse');
      let pem: string;
      try {
        pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
      } catch {
        skip('the issuer\'s first key could not be read');
      }
      const header = { ...base.header, ...(typeof jwk.kid === 'string' && { kid: jwk.kid }) };
      const exchange = await firstServed(run, base, [
        { token: hmacJwt(header, base.payload, pem), note: 'HS256 keyed with the issuer\'s public key (PEM)' },
        { token: hmacJwt(header, base.payload, pem.trimEnd()), note: 'HS256 keyed with the issuer\'s public key (PEM, no final newline)' },
      ]);
      if (exchange) run.fail(`A token MACed with the issuer's public key (from ${SOURCE(base)}) was served: anyone can mint tokens.`, [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.untrusted-key',
    area: 'tokens',
    impliedBy: ['tokens.signature-not-verified'],
    severity: 'critical',
    title: 'Tokens signed by a key they carry themselves are accepted',
    summary: 'Presents the claims signed by a key of the audit\'s, with that key in the jwk header and its thumbprint as kid.',
    standards: [STANDARDS.rfc8725ReceivedClaims, STANDARDS.rfc9068Validation],
    fix: 'Verify with the issuer\'s keys only (its jwks_uri); ignore jwk, jku, x5u and x5c in access tokens, and refuse unknown kids.',
    needs: [],
    async run(run) {
      const base = await forgeryBase(run);
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const exported = publicKey.export({ format: 'jwk' });
      const publicJwk = { kty: 'EC', crv: exported.crv, x: exported.x, y: exported.y };
      const token = embeddedKeyJwt(base.header, base.payload, { privateKey, publicJwk, kid: jwkThumbprint(publicJwk) });
      const exchange = await firstServed(run, base, [{ token, note: 'signed by a key of the audit\'s, which the token names itself (jwk header, kid swapped)' }]);
      if (exchange) run.fail(`A token signed by a key it carried itself (from ${SOURCE(base)}) was served: anyone can mint tokens.`, [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.audience-not-checked',
    area: 'tokens',
    severity: 'high',
    title: 'Tokens issued for another resource are accepted',
    summary: 'Obtains a token for --other-resource from the same authorization server (client credentials, or a second sign-in) and presents it to the target.',
    standards: [STANDARDS.mcpTokenHandling, STANDARDS.rfc8707Audience, STANDARDS.mcpPrivilegeRestriction],
    fix: 'Require the canonical URI of this MCP server in the token\'s aud (or the introspection response) on every request.',
    needs: ['other-resource', 'client'],
    async run(run) {
      const { ctx } = run;
      const other = ctx.options.otherResource;
      if (other === undefined) skip('needs --other-resource (another resource of the same authorization server), and --client-id/--client-secret or --sign-in to get a token for it');
      await requireCredential(ctx);
      const obtained = await tokenFor(run, other);
      const response = obtained.response;
      if (response.accessToken === undefined) inconclusive(`the authorization server issued no token for ${other} (HTTP ${response.exchange.response.status}${errorOf(response)})`);
      const aud = decodeJwt(response.accessToken)?.payload.aud;
      const audiences = Array.isArray(aud) ? aud : [aud];
      if (audiences.includes(ctx.target.canonical)) inconclusive(`the token for ${other} names this server in its aud too`);
      const credential: Credential = { token: response.accessToken, ...(isDpop(response) && { key: ctx.auditKey }), label: `a token for ${other} (${obtained.how})` };
      const exchange = await ctx.authorized(credential, { body: initializeBody(), note: `a token the authorization server issued for ${other}` });
      if (served(exchange.response)) run.fail(`A token issued for ${other} was served by ${ctx.target.canonical}.`, [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.typ-not-checked',
    area: 'tokens',
    severity: 'medium',
    title: 'A JWT that is not an access token is accepted as one',
    summary: 'Presents --id-token (a JWT of the same issuer that is not typ at+jwt, such as an OpenID ID token) as an access token.',
    standards: [STANDARDS.rfc9068Validation, STANDARDS.rfc8725ExplicitTyping],
    fix: 'Require `typ: at+jwt` (RFC 9068) and this server in aud; refuse ID tokens and other JWTs of the issuer.',
    needs: ['id-token'],
    async run(run) {
      const { ctx } = run;
      const idToken = ctx.options.idToken;
      if (idToken === undefined) skip('needs --id-token (a JWT of the same issuer that is not an access token)');
      await requireProtected(ctx);
      const exchange = await ctx.authorized({ token: idToken, label: '--id-token' }, { body: initializeBody(), note: 'an ID token presented as an access token' });
      if (served(exchange.response)) run.fail(`A JWT with typ "${String(decodeJwt(idToken)?.header.typ ?? '(none)')}" was served as an access token.`, [exchange]);
    },
  }),
];
