/**
 * `warden demo-client --login device`: the device authorization grant (RFC 8628) as a headless
 * agent uses it — a code for the user to enter in any browser, polling until they allow, then
 * tool calls with the DPoP-bound token. The user code is printed (the user must see it); the
 * device code and tokens never are.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createDpopFetch, DEVICE_CODE_GRANT_TYPE, runDeviceFlow, type DpopKey, type FetchLike } from '../../client/index.js';
import { UsageError } from '../errors.js';
import type { StackInfo } from '../stack-file.js';
import { DEMO_CLI_CLIENT_ID } from './demo-clients.js';

/** Runs the device walk-through against the stack `info` describes; `say` prints one step. */
export async function deviceDemo(info: StackInfo, mcpUrl: string, key: DpopKey, fetch: FetchLike, say: (line: string) => void): Promise<void> {
  const client = info.clients.find((c) => c.client_id === DEMO_CLI_CLIENT_ID && c.grant_types.includes(DEVICE_CODE_GRANT_TYPE));
  if (client === undefined) throw new UsageError(`--login device needs the ${DEMO_CLI_CLIENT_ID} client of "warden start" (registered for the device grant) in stack.json`);
  say(`Device authorization (RFC 8628) as ${client.client_id}: no browser on this side; the token will be for ${mcpUrl}.`);
  const tokens = await runDeviceFlow({
    issuer: info.issuer,
    clientId: client.client_id,
    resource: mcpUrl,
    dpop: key,
    fetch,
    onUserCode: (prompt) => {
      say(`  On any device, open ${prompt.verificationUri} and enter the code ${prompt.userCode} (valid ${prompt.expiresIn} s).`);
      if (prompt.verificationUriComplete !== undefined) say(`  Or open ${prompt.verificationUriComplete} and confirm the code there.`);
      say('  Waiting for you to sign in and allow (polling the token endpoint at the interval it asked for)…');
    },
  });
  say(`  Allowed: a ${tokens.token_type} token, scope "${tokens.scope ?? ''}"${tokens.refresh_token !== undefined ? ', with a refresh token' : ''}.`);

  const dpopFetch = createDpopFetch(fetch, key);
  const mcp = new Client({ name: 'warden-demo-device-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { authorization: `${tokens.token_type} ${tokens.access_token}` } },
    fetch: dpopFetch,
  });
  try {
    await mcp.connect(transport);
    say('Connected: the MCP session is initialized with the device-grant token.');
    const tools = await mcp.listTools();
    say(`tools/list → ${tools.tools.map((t) => t.name).join(', ')}`);
    const whoami = await mcp.callTool({ name: 'whoami', arguments: {} });
    const text = ((whoami as { content?: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('');
    say(`tools/call whoami → ${text}`);
    say('Done.');
  } finally {
    await mcp.close().catch(() => undefined);
  }
}
