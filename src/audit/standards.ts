/**
 * The clauses audit findings cite, each with a link to the section itself, so a reader can check
 * the claim against the text.
 */
import type { Standard } from './types.js';

const rfc = (n: number, section: string): Standard => ({
  cite: `RFC ${n} §${section}`,
  url: `https://www.rfc-editor.org/rfc/rfc${n}#section-${section}`,
});

const MCP_AUTH = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization';
const mcp = (clause: string, anchor: string, page = MCP_AUTH): Standard => ({ cite: `MCP 2025-11-25 ${clause}`, url: `${page}#${anchor}` });
const MCP_TRANSPORTS = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/transports';
const MCP_BEST_PRACTICES = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices';
const OAUTH21 = 'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13';

/** Every clause a check cites. */
export const STANDARDS = Object.freeze({
  rfc6749AuthorizationEndpoint: rfc(6749, '3.1'),
  rfc6749RedirectionEndpoint: rfc(6749, '3.1.2'),
  rfc6749CodeSingleUse: rfc(6749, '4.1.2'),
  rfc6749ErrorResponse: rfc(6749, '4.1.2.1'),
  rfc6749ClientCredentials: rfc(6749, '4.4'),
  rfc6749ClientImpersonation: rfc(6749, '10.2'),
  rfc6750FormBody: rfc(6750, '2.2'),
  rfc6750Query: rfc(6750, '2.3'),
  rfc6750Challenge: rfc(6750, '3'),
  rfc6750ErrorCodes: rfc(6750, '3.1'),
  rfc6797Hsts: rfc(6797, '7.1'),
  rfc7591Security: rfc(7591, '5'),
  rfc7636S256: rfc(7636, '4.2'),
  rfc7636Server: rfc(7636, '4.4.1'),
  rfc8414Metadata: rfc(8414, '2'),
  rfc8414WellKnown: rfc(8414, '3.1'),
  rfc8414IssuerMatch: rfc(8414, '3.3'),
  rfc8707Audience: rfc(8707, '2'),
  rfc8725AlgorithmVerification: rfc(8725, '3.1'),
  rfc8725ValidateAllCrypto: rfc(8725, '3.3'),
  rfc8725ReceivedClaims: rfc(8725, '3.10'),
  rfc8725ExplicitTyping: rfc(8725, '3.11'),
  rfc9068Validation: rfc(9068, '4'),
  rfc9207Iss: rfc(9207, '2'),
  rfc9449ProofChecks: rfc(9449, '4.3'),
  rfc9449Challenge: rfc(9449, '7.1'),
  rfc9449BoundTokenScheme: rfc(9449, '7.2'),
  rfc9449Replay: rfc(9449, '11.1'),
  rfc9449Binding: rfc(9449, '6.1'),
  rfc9700Pkce: rfc(9700, '2.1.1'),
  rfc9700RedirectUri: rfc(9700, '4.1.3'),
  rfc9700OpenRedirector: rfc(9700, '4.11.2'),
  rfc9700ImplicitGrant: rfc(9700, '2.1.2'),
  rfc9700PasswordGrant: rfc(9700, '2.4'),
  rfc9700RefreshToken: rfc(9700, '4.14.2'),
  rfc9728WellKnown: rfc(9728, '3.1'),
  rfc9728ResourceMatch: rfc(9728, '3.3'),
  rfc9728Metadata: rfc(9728, '2'),
  rfc9728Challenge: rfc(9728, '5.1'),
  oauth21ResourceRequests: { cite: 'OAuth 2.1 §5.1', url: `${OAUTH21}#section-5.1` },
  oauth21TokenValidation: { cite: 'OAuth 2.1 §5.2', url: `${OAUTH21}#section-5.2` },
  oauth21CommunicationSecurity: { cite: 'OAuth 2.1 §1.5', url: `${OAUTH21}#section-1.5` },
  mcpTokenRequirements: mcp('Authorization, Token Requirements', 'token-requirements'),
  mcpTokenHandling: mcp('Authorization, Token Handling', 'token-handling'),
  mcpPrmDiscovery: mcp('Authorization, Protected Resource Metadata Discovery Requirements', 'protected-resource-metadata-discovery-requirements'),
  mcpAsLocation: mcp('Authorization, Authorization Server Location', 'authorization-server-location'),
  mcpAsDiscovery: mcp('Authorization, Authorization Server Metadata Discovery', 'authorization-server-metadata-discovery'),
  mcpClientRegistration: mcp('Authorization, Client Registration Approaches', 'client-registration-approaches'),
  mcpCodeProtection: mcp('Authorization, Authorization Code Protection', 'authorization-code-protection'),
  mcpOpenRedirection: mcp('Authorization, Open Redirection', 'open-redirection'),
  mcpCommunicationSecurity: mcp('Authorization, Communication Security', 'communication-security'),
  mcpTokenTheft: mcp('Authorization, Token Theft', 'token-theft'),
  mcpScopeChallenge: mcp('Authorization, Scope Challenge Handling', 'scope-challenge-handling'),
  mcpPrivilegeRestriction: mcp('Authorization, Access Token Privilege Restriction', 'access-token-privilege-restriction'),
  mcpOriginValidation: mcp('Transports, Security Warning', 'security-warning', MCP_TRANSPORTS),
  mcpSessionManagement: mcp('Transports, Session Management', 'session-management', MCP_TRANSPORTS),
  mcpSessionHijacking: mcp('Security Best Practices, Session Hijacking', 'session-hijacking', MCP_BEST_PRACTICES),
  fetchCors: { cite: 'Fetch Standard, CORS protocol (Access-Control-Allow-Credentials)', url: 'https://fetch.spec.whatwg.org/#cors-protocol-and-credentials' },
} satisfies Record<string, Standard>);
