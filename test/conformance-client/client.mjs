#!/usr/bin/env node
/**
 * A conformance client for `@modelcontextprotocol/conformance client`, built only on
 * `mcp-warden/client` and the official MCP SDKs: v1 (`@modelcontextprotocol/sdk`) for the stateful
 * revisions, v2 (`@modelcontextprotocol/client`) when the runner's MCP_CONFORMANCE_PROTOCOL_VERSION
 * is 2026-07-28 (stateless: the v1 session ends there). The runner passes the server URL as the
 * last argument, the scenario in MCP_CONFORMANCE_SCENARIO and its data in MCP_CONFORMANCE_CONTEXT.
 *
 * Flows: the authorization code grant with PKCE through the kit's provider (the "user" is a
 * headless redirect follower: the suite's authorization endpoint answers with a redirect at
 * once), DPoP-bound for auth/dpop*, pre-registered credentials for auth/pre-registration;
 * client_credentials with private_key_jwt or client_secret_basic (the SDK's providers); the
 * jwt-bearer grant with an ID-JAG from the IdP (auth/enterprise-managed-authorization) or a
 * workload token (auth/wif-jwt-bearer) through the kit. The client offers the suite's Client ID
 * Metadata Document URL, which the SDK uses when the authorization server supports them.
 */
import * as v2 from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { connectWithAuthorization, createJwtBearerProvider, createOAuthProvider, generateDpopKey, requestIdJag } from 'mcp-warden/client';

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const serverUrl = new URL(process.argv[process.argv.length - 1]);
const stateless = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION === '2026-07-28';
/** The URL the suite's authorization servers accept as a Client ID Metadata Document (they never fetch it). */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

/** The suite's authorization endpoint redirects at once: follow one hop and hand back where it points. */
async function authorize(url) {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  return new URL(location, url).href;
}

async function machineProvider() {
  switch (scenario) {
    case 'auth/client-credentials-jwt': {
      const Provider = stateless ? v2.PrivateKeyJwtProvider : PrivateKeyJwtProvider;
      return new Provider({ clientId: context.client_id, privateKey: context.private_key_pem, algorithm: context.signing_algorithm ?? 'ES256' });
    }
    case 'auth/client-credentials-basic': {
      const Provider = stateless ? v2.ClientCredentialsProvider : ClientCredentialsProvider;
      return new Provider({ clientId: context.client_id, clientSecret: context.client_secret });
    }
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
  const sdk = stateless ? { Client: v2.Client, Transport: v2.StreamableHTTPClientTransport } : { Client, Transport: StreamableHTTPClientTransport };
  const info = { name: 'mcp-warden-conformance-client', version: '1.0.0' };
  const client = stateless ? new sdk.Client(info, { versionNegotiation: { mode: { pin: '2026-07-28' } } }) : new sdk.Client(info);
  const machine = await machineProvider();
  if (machine !== undefined) {
    await client.connect(new sdk.Transport(serverUrl, { authProvider: machine }));
  } else {
    const provider = createOAuthProvider({
      redirectUrl: 'http://127.0.0.1:3333/callback',
      authorize,
      clientMetadataUrl: CLIENT_METADATA_URL,
      ...(stateless && { auth: v2.auth }),
      ...(scenario.startsWith('auth/dpop') && { dpop: await generateDpopKey() }),
      ...(context.client_id !== undefined && { clientInformation: { client_id: context.client_id, ...(context.client_secret !== undefined && { client_secret: context.client_secret }) } }),
    });
    await connectWithAuthorization(client, () => new sdk.Transport(serverUrl, { authProvider: provider, fetch: provider.fetch }), provider);
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
