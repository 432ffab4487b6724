/**
 * Machine and enterprise clients on the official v1 MCP SDK against `warden serve` in a child
 * process: a workload with its platform token (SEP-1933), an enterprise user's ID-JAG obtained
 * from a separate IdP process by token exchange (SEP-990), and a private_key_jwt client_credentials
 * client (RFC 7523 §2.2) using the SDK's own `PrivateKeyJwtProvider`. No secrets for workloads.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { createJwtBearerProvider, requestIdJag } from '../../src/client/index.js';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const K8S = 'https://kubernetes.default.svc.cluster.local';

interface Signer {
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function signer(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

let warden: SpawnedWarden;
let idpServer: Server;
let idpUrl: string;
let k8s: Signer;
let idp: Signer;
let machineKey: Signer;
const enterpriseSecret = randomBytes(24).toString('base64url');

/** A separate IdP: signs users' ID tokens and, by RFC 8693 token exchange, ID-JAGs for them. */
async function startIdp(): Promise<void> {
  idpServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      void (async () => {
        const form = new URLSearchParams(body);
        const refuse = (error: string) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error }));
        };
        if (req.url !== '/token' || form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') return refuse('unsupported_grant_type');
        if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:id-jag' || form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:id_token') return refuse('invalid_request');
        let sub: string;
        try {
          sub = (await jwtVerify(form.get('subject_token') ?? '', await importJWK(idp.publicJwk, 'ES256'), { issuer: idpUrl, audience: 'mcp-desktop' })).payload.sub as string;
        } catch {
          return refuse('invalid_grant');
        }
        const idJag = await new SignJWT({ client_id: 'enterprise-app', resource: form.get('resource'), scope: 'mcp:tools', jti: randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt', kid: idp.publicJwk.kid as string })
          .setIssuer(idpUrl)
          .setSubject(sub)
          .setAudience(form.get('audience') ?? '')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(idp.privateKey);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: idJag, issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A' }));
        return undefined;
      })();
    });
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  idpUrl = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  [k8s, idp, machineKey] = await Promise.all([signer('k8s-1'), signer('idp-1'), signer('machine-1')]);
  await startIdp();
  const port = await freePort();
  warden = await spawnWarden({
    port,
    config: {
      publicUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      storage: { kind: 'memory' },
      replay: { kind: 'memory' },
      authorizationServer: {
        clients: [
          { clientId: 'ci-runner', grantTypes: [GRANT], scope: 'mcp:tools' },
          { clientId: 'enterprise-app', clientSecret: enterpriseSecret, grantTypes: [GRANT] },
          { clientId: 'machine-jwt', jwks: { keys: [machineKey.publicJwk] }, scope: 'mcp:tools' },
        ],
        jwtBearer: {
          enterpriseIdps: [{ id: 'acme', issuer: idpUrl, jwks: { keys: [idp.publicJwk] } }],
          workloads: [{ id: 'k8s', issuer: K8S, jwks: { keys: [k8s.publicJwk] }, rules: [{ subject: 'system:serviceaccount:ci:*', clientId: 'ci-runner' }] }],
        },
      },
      resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo', dpop: 'allowed', scopes: { default: ['mcp:tools'] } }],
    },
  });
}, 60_000);

afterAll(async () => {
  await warden?.stop();
  await new Promise<void>((resolve) => (idpServer ? idpServer.close(() => resolve()) : resolve()));
});

async function listTools(provider: OAuthClientProvider): Promise<string[]> {
  const client = new Client({ name: 'e2e-machine', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(warden.resource('demo').url), { authProvider: provider });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

describe('machine and enterprise clients on the v1 MCP SDK (RFC 7523)', () => {
  it('SEP-1933: a workload connects with its platform token alone — no client secret anywhere', async () => {
    const provider = createJwtBearerProvider({
      clientId: 'ci-runner',
      assertion: async ({ issuer }) =>
        new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k8s-1' }).setIssuer(K8S).setSubject('system:serviceaccount:ci:builder').setAudience(issuer).setIssuedAt().setExpirationTime('1h').sign(k8s.privateKey),
    });
    expect((await listTools(provider)).length).toBeGreaterThan(0);
    const token = (await provider.tokens())?.access_token as string;
    expect(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())).toMatchObject({ sub: 'ci-runner', client_id: 'ci-runner' });
  });

  it('SEP-990: an enterprise user\'s ID token becomes an ID-JAG at the IdP (RFC 8693), then an access token at Warden', async () => {
    const idToken = await new SignJWT({ email: 'alice@acme.example' }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(idpUrl).setSubject('alice').setAudience('mcp-desktop').setIssuedAt().setExpirationTime('1h').sign(idp.privateKey);
    const provider = createJwtBearerProvider({
      clientId: 'enterprise-app',
      clientSecret: enterpriseSecret,
      assertion: async ({ issuer, resource }) => requestIdJag({ tokenEndpoint: `${idpUrl}/token`, idToken, audience: issuer, ...(resource !== undefined && { resource }), clientId: 'mcp-desktop' }),
    });
    expect((await listTools(provider)).length).toBeGreaterThan(0);
    const token = (await provider.tokens())?.access_token as string;
    expect(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())).toMatchObject({ sub: 'acme:alice', client_id: 'enterprise-app' });
    expect((await provider.tokens())?.refresh_token).toBeUndefined();
  });

  it('RFC 7523 §2.2: the SDK\'s own PrivateKeyJwtProvider gets client_credentials tokens from Warden (aud = issuer)', async () => {
    const provider = new PrivateKeyJwtProvider({ clientId: 'machine-jwt', expectedIssuer: warden.stack.issuer, privateKey: await exportPKCS8(machineKey.privateKey), algorithm: 'ES256', scope: 'mcp:tools' });
    expect((await listTools(provider)).length).toBeGreaterThan(0);
  });
});
