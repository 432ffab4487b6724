/**
 * An example upstream for `upstreamAuth: { kind: token }`: an MCP server (official SDK v1,
 * stateless) that trusts no header and no network position, only tokens — it verifies every
 * request with `createResourceServer` against the stack's issuer (its JWKS), with its own
 * identifier as the audience. So the gateway's short-lived token for this upstream passes, and
 * the caller's own token (audience: the gateway) or a token minted for another upstream do not.
 *
 * The few lines an upstream needs are the `createResourceServer({...})` call and `rs.node(...)`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createResourceServer } from '../../../src/resource-server/index.js';

/** What `whoami` answers: the identity the upstream verified, and the token's `act`, `aud` and lifetime. */
export interface TokenWhoami {
  subject: string | null;
  clientId: string;
  scopes: string[];
  act: unknown;
  aud: unknown;
  lifetime: number;
}

export interface TokenUpstream {
  /** `http://127.0.0.1:<port>/mcp`: also its identifier (the `aud` it accepts). */
  url: string;
  /** Every `Authorization` value received (tests check none is the caller's own token). */
  authorizations: string[];
  close(): Promise<void>;
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Starts the upstream on a free port of 127.0.0.1, trusting `issuer`. */
export async function startTokenUpstream(issuer: string, options: { clockSkewSeconds?: number } = {}): Promise<TokenUpstream> {
  const authorizations: string[] = [];
  let url = '';
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>) | undefined;
  const http: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    void handler!(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;

  // The upstream side of token mode: these few lines.
  const rs = createResourceServer({
    resource: url, // its own identifier: the `aud` the gateway's tokens for it carry
    trust: { issuer, jwksUri: `${issuer}/jwks` }, // the stack's issuer and its published keys
    dpop: 'disabled', // the gateway presents short-lived Bearer tokens
    ...(options.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: options.clockSkewSeconds }),
  });
  handler = rs.node(async (req, res) => {
    const server = new McpServer({ name: 'token-upstream', version: '1.0.0' });
    server.registerTool('whoami', { description: 'who the verified token says is calling' }, (extra) => {
      const auth = extra.authInfo!;
      const payload = payloadOf(auth.token);
      const seen: TokenWhoami = {
        subject: (auth.extra?.['subject'] as string | undefined) ?? null,
        clientId: auth.clientId,
        scopes: auth.scopes,
        act: payload['act'],
        aud: payload['aud'],
        lifetime: Number(payload['exp']) - Number(payload['iat']),
      };
      return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
    });
    server.registerTool('echo', { description: 'echo' }, () => ({ content: [{ type: 'text', text: 'echo' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    res.once('close', () => void server.close());
  });

  return {
    url,
    authorizations,
    async close() {
      await rs.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
