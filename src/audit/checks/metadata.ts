/**
 * Discovery documents: the protected-resource metadata (RFC 9728) and the authorization server's
 * metadata (RFC 8414, OpenID Connect Discovery), read as an MCP client reads them.
 */
import { canonicalResourceUri } from '../../oauth/canonical-uri.js';
import { defineCheck } from '../check.js';
import {
  authorizationServer,
  authorizationServerMetadata,
  authorizationServerMetadataSearch,
  metadataUrls,
  resourceMetadata,
  resourceMetadataSearch,
  stringList,
  wellKnownResourceMetadataUrl,
} from '../discovery.js';
import { skip } from '../signals.js';
import { STANDARDS } from '../standards.js';

function canonical(value: string): string | undefined {
  try {
    return canonicalResourceUri(value);
  } catch {
    return undefined;
  }
}

export const metadataChecks = [
  defineCheck({
    id: 'discovery.prm-missing',
    area: 'discovery',
    severity: 'high',
    title: 'No protected-resource metadata is served',
    summary: 'Looks for RFC 9728 metadata where MCP clients look: the challenge\'s resource_metadata, then the path-inserted and root well-known URLs.',
    standards: [STANDARDS.mcpAsLocation, STANDARDS.rfc9728WellKnown],
    fix: 'Serve `{"resource": "<canonical MCP URL>", "authorization_servers": ["<issuer>"], …}` at `/.well-known/oauth-protected-resource<path>` and name it in the 401 challenge.',
    needs: [],
    async run({ ctx, fail }) {
      const search = await resourceMetadataSearch(ctx);
      if (search.metadata !== undefined) return;
      fail('None of the URLs an MCP client tries answered a metadata document, so no client can discover the authorization server.', search.attempts);
    },
  }),
  defineCheck({
    id: 'discovery.prm-not-at-well-known',
    area: 'discovery',
    severity: 'low',
    title: 'The resource metadata is not at its well-known URL',
    summary: 'The metadata should also be served at the path-inserted well-known URL, for clients that do not read the challenge.',
    standards: [STANDARDS.rfc9728WellKnown, STANDARDS.mcpPrmDiscovery],
    fix: 'Serve the metadata at `/.well-known/oauth-protected-resource<path of the MCP endpoint>` as well.',
    needs: [],
    async run({ ctx, fail }) {
      const prm = await resourceMetadata(ctx);
      if (prm === undefined) skip('no resource metadata was found');
      if (prm.atWellKnown || prm.url === `${ctx.target.origin}/.well-known/oauth-protected-resource`) return;
      const miss = prm.attempts.find((a) => a.request.url === wellKnownResourceMetadataUrl(ctx.target.url));
      fail(`The metadata is served at ${prm.url} only; ${wellKnownResourceMetadataUrl(ctx.target.url)} does not answer it.`, miss ? [miss] : []);
    },
  }),
  defineCheck({
    id: 'discovery.prm-resource-mismatch',
    area: 'discovery',
    severity: 'high',
    title: 'The resource metadata names another resource',
    summary: 'The metadata\'s resource must be the MCP endpoint\'s canonical URI; a client must refuse metadata that names another.',
    standards: [STANDARDS.rfc9728ResourceMatch, STANDARDS.rfc8707Audience],
    fix: 'Set `resource` to the canonical URI clients connect to (scheme, host, port and path of the MCP endpoint, no trailing slash).',
    needs: [],
    async run({ ctx, fail }) {
      const prm = await resourceMetadata(ctx);
      if (prm === undefined) skip('no resource metadata was found');
      const resource = prm.document.resource as string;
      if (canonical(resource) !== ctx.target.canonical) fail(`The metadata says resource "${resource}"; the endpoint is ${ctx.target.canonical}.`, [prm.exchange]);
    },
  }),
  defineCheck({
    id: 'discovery.prm-no-authorization-servers',
    area: 'discovery',
    severity: 'high',
    title: 'The resource metadata names no authorization server',
    summary: 'MCP requires authorization_servers with at least one issuer.',
    standards: [STANDARDS.mcpAsLocation, STANDARDS.rfc9728Metadata],
    fix: 'List the issuer of the authorization server in `authorization_servers`.',
    needs: [],
    async run({ ctx, fail }) {
      const prm = await resourceMetadata(ctx);
      if (prm === undefined) skip('no resource metadata was found');
      if ((await authorizationServer(ctx)) === undefined) fail('authorization_servers is missing, empty or not a list of URLs.', [prm.exchange]);
    },
  }),
  defineCheck({
    id: 'discovery.as-metadata-missing',
    area: 'discovery',
    severity: 'high',
    title: 'The authorization server publishes no metadata',
    summary: 'Tries the RFC 8414 and OpenID Connect Discovery URLs in the order MCP clients use.',
    standards: [STANDARDS.mcpAsDiscovery, STANDARDS.rfc8414WellKnown],
    fix: 'Serve RFC 8414 metadata at `/.well-known/oauth-authorization-server<issuer path>` (or OpenID Connect Discovery).',
    needs: [],
    async run({ ctx, fail }) {
      const issuer = await authorizationServer(ctx);
      if (issuer === undefined) skip('no authorization server is named');
      const search = await authorizationServerMetadataSearch(ctx);
      if (search.metadata === undefined) fail(`None of ${metadataUrls(issuer).map((u) => u.url).join(', ')} answered a metadata document.`, search.attempts);
    },
  }),
  defineCheck({
    id: 'discovery.as-issuer-mismatch',
    area: 'discovery',
    severity: 'high',
    title: 'The authorization server metadata names another issuer',
    summary: 'The metadata\'s issuer must be byte-for-byte the issuer it was fetched for (mix-up defence).',
    standards: [STANDARDS.rfc8414IssuerMatch],
    fix: 'Make `issuer` identical to the issuer identifier in the resource metadata (same scheme, host, port, path, trailing slash).',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      if (metadata.document.issuer !== metadata.issuer) fail(`Fetched for issuer "${metadata.issuer}", the metadata says "${String(metadata.document.issuer)}".`, [metadata.exchange]);
    },
  }),
  defineCheck({
    id: 'as.metadata-pkce',
    area: 'authorization-server',
    severity: 'medium',
    title: 'The metadata does not advertise PKCE with S256',
    summary: 'code_challenge_methods_supported must list S256; MCP clients refuse to proceed without it.',
    standards: [STANDARDS.mcpCodeProtection, STANDARDS.rfc8414Metadata],
    fix: 'Support PKCE S256 and publish `"code_challenge_methods_supported": ["S256"]`.',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      const methods = stringList(metadata.document, 'code_challenge_methods_supported');
      if (!methods.includes('S256')) fail(methods.length === 0 ? 'code_challenge_methods_supported is absent.' : `code_challenge_methods_supported is ${JSON.stringify(methods)}.`, [metadata.exchange]);
    },
  }),
  defineCheck({
    id: 'as.metadata-pkce-plain',
    area: 'authorization-server',
    severity: 'low',
    title: 'The metadata offers the PKCE plain method',
    summary: 'plain sends the verifier itself in the authorization request; only S256 should be offered.',
    standards: [STANDARDS.rfc9700Pkce, STANDARDS.rfc7636S256],
    fix: 'Drop `plain` from `code_challenge_methods_supported` and refuse it at the authorization endpoint.',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      if (stringList(metadata.document, 'code_challenge_methods_supported').includes('plain')) fail('code_challenge_methods_supported includes "plain".', [metadata.exchange]);
    },
  }),
  defineCheck({
    id: 'as.metadata-legacy-grants',
    area: 'authorization-server',
    severity: 'medium',
    title: 'The metadata offers the implicit or password grant',
    summary: 'OAuth 2.1 removed the implicit grant (response_type token) and the resource owner password grant.',
    standards: [STANDARDS.rfc9700ImplicitGrant, STANDARDS.rfc9700PasswordGrant],
    fix: 'Remove `token` response types and the `password` grant; use the authorization code grant with PKCE.',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      const implicit = stringList(metadata.document, 'response_types_supported').filter((t) => t.split(' ').includes('token'));
      const password = stringList(metadata.document, 'grant_types_supported').includes('password');
      if (implicit.length > 0 || password) {
        fail([implicit.length > 0 && `response_types_supported includes ${implicit.map((t) => `"${t}"`).join(', ')}`, password && 'grant_types_supported includes "password"'].filter(Boolean).join('; ') + '.', [metadata.exchange]);
      }
    },
  }),
  defineCheck({
    id: 'as.metadata-no-iss-parameter',
    area: 'authorization-server',
    severity: 'low',
    title: 'Authorization responses do not carry iss',
    summary: 'authorization_response_iss_parameter_supported should be true, so clients can detect mix-up attacks.',
    standards: [STANDARDS.rfc9207Iss],
    fix: 'Add `iss` to every authorization response and publish `"authorization_response_iss_parameter_supported": true`.',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      if (metadata.document.authorization_response_iss_parameter_supported !== true) fail('authorization_response_iss_parameter_supported is not true.', [metadata.exchange]);
    },
  }),
  defineCheck({
    id: 'as.metadata-no-registration',
    area: 'authorization-server',
    severity: 'info',
    title: 'MCP clients have no way to register',
    summary: 'Without dynamic registration or Client ID Metadata Documents, only pre-registered clients can connect.',
    standards: [STANDARDS.mcpClientRegistration],
    fix: 'Support Client ID Metadata Documents (`client_id_metadata_document_supported: true`) or dynamic registration, or document how clients are pre-registered.',
    needs: [],
    async run({ ctx, fail }) {
      const metadata = await authorizationServerMetadata(ctx);
      if (metadata === undefined) skip('no authorization server metadata was found');
      if (metadata.document.registration_endpoint === undefined && metadata.document.client_id_metadata_document_supported !== true) {
        fail('The metadata has neither registration_endpoint nor client_id_metadata_document_supported.', [metadata.exchange]);
      }
    },
  }),
];
