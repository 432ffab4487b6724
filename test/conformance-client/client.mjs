#!/usr/bin/env node
/**
 * A conformance client for `@modelcontextprotocol/conformance client`, built only on
 * `mcp-warden/client` and the official MCP SDK (v1). The runner passes the server URL as the last
 * argument, the scenario in MCP_CONFORMANCE_SCENARIO and its data in MCP_CONFORMANCE_CONTEXT.
 *
 * Flows: the authorization code grant with PKCE through the kit's provider (the "user" is a
 * headless redirect follower: the suite's authorization endpoint answers with a redirect at
 * once), DPoP-bound for auth/dpop*, pre-registered credentials for auth/pre-registration;
 * client_credentials with private_key_jwt or client_secret_basic (the SDK's providers); the
 * jwt-bearer grant with an ID-JAG from the IdP (auth/enterprise-managed-authorization) or a
 * workload token (auth/wif-jwt-bearer) through the kit.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { connectWithAuthorization, createJwtBearerProvider, createOAuthProvider, generateDpopKey, requestIdJag } from 'mcp-warden/client';

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const serverUrl = new URL(process.argv[process.argv.length - 1]);

/** The suite's authorization endpoint redirects at once: follow one hop and hand back where it points. */
async function authorize(url) {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  return new URL(location, url).href;
}

async function machineProvider() {
  switch (scenario) {
    case 'auth/client-credentials-jwt':
      return new PrivateKeyJwtProvider({ clientId: context.client_id, privateKey: context.private_key_pem, algorithm: context.signing_algorithm ?? 'ES256' });
    case 'auth/client-credentials-basic':
      return new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret });
    case 'auth/enterprise-managed-authorization':
      return createJwtBearerProvider({
        clientId: context.client_id,
        clientSecret: context.client_secret,
        assertion: ({ issuer, resource }) => requestIdJag({ tokenEndpoint: context.idp_token_endpoint, idToken: context.idp_id_token, audience: issuer, ...(resource !== undefined && { resource }), clientId: context.idp_client_id }),
      });
    case 'auth/wif-jwt-bearer':
      return createJwtBearerProvider({ clientId: context.client_id, assertion: async () => context.valid_jwt });
    default:
      return undefined;
  }
}

async function main() {
  const client = new Client({ name: 'mcp-warden-conformance-client', version: '1.0.0' });
  const machine = await machineProvider();
  if (machine !== undefined) {
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: machine }));
  } else {
    const provider = createOAuthProvider({
      redirectUrl: 'http://127.0.0.1:3333/callback',
      authorize,
      ...(scenario.startsWith('auth/dpop') && { dpop: await generateDpopKey() }),
      ...(context.client_id !== undefined && { clientInformation: { client_id: context.client_id, ...(context.client_secret !== undefined && { client_secret: context.client_secret }) } }),
    });
    await connectWithAuthorization(client, () => new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: provider.fetch }), provider);
  }
  const { tools } = await client.listTools();
  if (tools.some((tool) => tool.name === 'test-tool')) await client.callTool({ name: 'test-tool', arguments: {} });
  await client.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`conformance client: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
