/**
 * DPoP at the resource (RFC 9449): with a DPoP-bound token and its key, each check sends one
 * deliberately defective proof — or none — and the server must refuse it, after a positive control
 * showed that a correct proof is served.
 */
import { defineCheck, type CheckRun } from '../check.js';
import type { AuthorizedRequest, Credential } from '../context.js';
import { requireBoundCredential, requireProtected, unboundCredential } from '../credentials.js';
import { resourceMetadata } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { initializeBody, served } from '../mcp-messages.js';
import { generateProofKey } from '../proof-key.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';
import { FOREIGN_HOST } from './transport.js';

type Variant = Omit<AuthorizedRequest, 'body'> & { note: string };

/** Sends each variant with the bound credential; returns those the server served. */
async function servedVariants(run: CheckRun, credential: Credential, variants: Variant[]): Promise<Exchange[]> {
  const accepted: Exchange[] = [];
  for (const variant of variants) {
    const exchange = await run.ctx.authorized(credential, { body: initializeBody(), ...variant });
    if (served(exchange.response)) accepted.push(exchange);
  }
  return accepted;
}

function report(run: CheckRun, accepted: Exchange[], what: string): void {
  if (accepted.length > 0) run.fail(`Served with ${accepted.map((e) => e.request.note).join('; and with ')}${what}.`, accepted);
}

const SECONDS = () => Math.floor(Date.now() / 1000);

export const dpopChecks = [
  defineCheck({
    id: 'dpop.bound-token-as-bearer',
    area: 'dpop',
    severity: 'high',
    title: 'A DPoP-bound token works without its proof',
    summary: 'Presents the bound token as Bearer without a proof, and under the DPoP scheme without a proof.',
    standards: [STANDARDS.rfc9449BoundTokenScheme, STANDARDS.rfc9449Binding],
    fix: 'When a token carries cnf.jkt, require the DPoP scheme and a valid proof by that key; refuse it as Bearer.',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const accepted = await servedVariants(run, credential, [
        { scheme: 'Bearer', proof: 'none', note: 'the bound token as Bearer, no proof' },
        { scheme: 'DPoP', proof: 'none', note: 'the bound token under the DPoP scheme, no proof' },
      ]);
      report(run, accepted, ': whoever steals the token can use it');
    },
  }),
  defineCheck({
    id: 'dpop.proof-replay',
    area: 'dpop',
    severity: 'high',
    title: 'A DPoP proof can be replayed',
    summary: 'Sends a request with a fresh proof (served), then the same proof again.',
    standards: [STANDARDS.rfc9449Replay, STANDARDS.rfc9449ProofChecks],
    fix: 'Remember each proof\'s jti (with the key thumbprint) for its iat window, atomically and shared by every instance, and refuse a second use.',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const first = await run.ctx.authorized(credential, { body: initializeBody(), note: 'a fresh proof' });
      if (!served(first.response) || first.proof === undefined) inconclusive(`a request with a fresh proof was not served (HTTP ${first.response.status})`);
      const replay = await run.ctx.authorized(credential, { body: initializeBody(), proof: { reuse: first.proof }, note: 'the same proof again (replay)' });
      if (served(replay.response)) run.fail('The same proof was accepted twice: a captured request can be replayed for as long as the server accepts its iat.', [first, replay]);
    },
  }),
  defineCheck({
    id: 'dpop.htm-not-checked',
    area: 'dpop',
    severity: 'high',
    title: 'The proof\'s htm is not checked',
    summary: 'Sends a POST whose proof says htm GET.',
    standards: [STANDARDS.rfc9449ProofChecks],
    fix: 'Compare htm with the request method (RFC 9449 §4.3 step 8).',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      report(run, await servedVariants(run, credential, [{ proof: { htm: 'GET' }, note: 'a proof for GET on a POST' }]), '');
    },
  }),
  defineCheck({
    id: 'dpop.htu-not-checked',
    area: 'dpop',
    severity: 'high',
    title: 'The proof\'s htu is not checked',
    summary: 'Sends proofs for another path of the same origin, and for another origin.',
    standards: [STANDARDS.rfc9449ProofChecks],
    fix: 'Compare htu (without query and fragment, normalised) with this endpoint\'s URL (RFC 9449 §4.3 step 9).',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const target = new URL(run.ctx.target.url);
      const accepted = await servedVariants(run, credential, [
        { proof: { htu: `${target.origin}/warden-audit-other-path` }, note: 'a proof for another path' },
        { proof: { htu: `https://other.warden-audit.invalid${target.pathname}` }, note: 'a proof for another origin' },
      ]);
      report(run, accepted, ': a proof captured anywhere works here');
    },
  }),
  defineCheck({
    id: 'dpop.htu-from-host',
    area: 'dpop',
    impliedBy: ['dpop.htu-not-checked'],
    severity: 'high',
    title: 'The expected htu is taken from the request\'s Host',
    summary: `Sends a proof for ${FOREIGN_HOST} with that Host header, and one for it with X-Forwarded-Host.`,
    standards: [STANDARDS.rfc9449ProofChecks],
    fix: 'Build the expected htu from the configured public URL of the server, never from Host or X-Forwarded-* of the request.',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const path = new URL(run.ctx.target.url).pathname;
      const accepted = await servedVariants(run, credential, [
        { headers: { host: FOREIGN_HOST }, proof: { htu: `${new URL(run.ctx.target.url).protocol}//${FOREIGN_HOST}${path}` }, note: `a proof for ${FOREIGN_HOST}, sent with Host: ${FOREIGN_HOST}` },
        {
          headers: { 'x-forwarded-host': FOREIGN_HOST, 'x-forwarded-proto': 'https' },
          proof: { htu: `https://${FOREIGN_HOST}${path}` },
          note: `a proof for https://${FOREIGN_HOST}, sent with X-Forwarded-Host: ${FOREIGN_HOST}`,
        },
      ]);
      report(run, accepted, ': a proof made for another server is accepted when the request names that server');
    },
  }),
  defineCheck({
    id: 'dpop.ath-not-checked',
    area: 'dpop',
    severity: 'high',
    title: 'The proof\'s ath is not checked',
    summary: 'Sends proofs without ath, and with the ath of another token.',
    standards: [STANDARDS.rfc9449ProofChecks],
    fix: 'Require ath and compare it with the SHA-256 of the presented token (RFC 9449 §4.3 step 12).',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const accepted = await servedVariants(run, credential, [
        { proof: { ath: false }, note: 'a proof without ath' },
        { proof: { athToken: 'warden-audit-another-access-token' }, note: 'a proof whose ath hashes another token' },
      ]);
      report(run, accepted, '');
    },
  }),
  defineCheck({
    id: 'dpop.iat-not-checked',
    area: 'dpop',
    severity: 'medium',
    title: 'Stale or future DPoP proofs are accepted',
    summary: 'Sends proofs whose iat is 15 minutes in the past, and 15 minutes in the future.',
    standards: [STANDARDS.rfc9449ProofChecks, STANDARDS.rfc9449Replay],
    fix: 'Accept proofs only within a short iat window (seconds to a minute, plus clock skew), or require server nonces (RFC 9449 §9).',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const accepted = await servedVariants(run, credential, [
        { proof: { iat: SECONDS() - 900 }, note: 'a proof made 15 minutes ago' },
        { proof: { iat: SECONDS() + 900 }, note: 'a proof dated 15 minutes ahead' },
      ]);
      report(run, accepted, ': a captured proof stays usable');
    },
  }),
  defineCheck({
    id: 'dpop.binding-not-checked',
    area: 'dpop',
    severity: 'critical',
    title: 'A proof by any key is accepted for a bound token',
    summary: 'Presents the bound token with a valid proof signed by another key.',
    standards: [STANDARDS.rfc9449Binding, STANDARDS.rfc9449ProofChecks],
    fix: 'Compare the RFC 7638 thumbprint of the proof\'s jwk with the token\'s cnf.jkt.',
    needs: ['dpop-bound-token'],
    async run(run) {
      const credential = await requireBoundCredential(run.ctx);
      const thief = generateProofKey();
      report(run, await servedVariants(run, credential, [{ proof: { key: thief }, note: 'a proof by a key the token is not bound to' }]), ': a stolen token works with the thief\'s own key');
    },
  }),
  defineCheck({
    id: 'dpop.required-not-enforced',
    area: 'dpop',
    severity: 'high',
    title: 'DPoP is required, yet an unbound token is accepted',
    summary: 'When the metadata says dpop_bound_access_tokens_required, presents an unbound (bearer) token.',
    standards: [STANDARDS.rfc9728Metadata, STANDARDS.rfc9449BoundTokenScheme],
    fix: 'Refuse tokens without cnf.jkt when DPoP is required, or stop advertising dpop_bound_access_tokens_required.',
    needs: ['unbound-token'],
    async run(run) {
      const prm = await resourceMetadata(run.ctx);
      if (prm?.document.dpop_bound_access_tokens_required !== true) skip('the resource metadata does not require DPoP-bound tokens');
      await requireProtected(run.ctx);
      const credential = await unboundCredential(run.ctx);
      if (credential === undefined) skip('needs an unbound token: --token without --dpop-key (with --client-id/--client-secret, the authorization server issued none without DPoP)');
      const exchange = await run.ctx.authorized(credential, { body: initializeBody(), note: `${credential.label}, as Bearer` });
      if (served(exchange.response)) run.fail('The metadata requires DPoP-bound tokens, but a bearer token was served.', [exchange]);
    },
  }),
];
