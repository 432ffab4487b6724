import { describe, expect, it } from 'vitest';
import { canonicalResourceUri, expectedHtu, htuComparisonForm } from './canonical-uri.js';

function refusal(value: string): string {
  try {
    canonicalResourceUri(value);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('canonicalResourceUri — RFC 8707 §2, normalised per RFC 3986 §6.2.2–6.2.3', () => {
  it('RFC 3986 §6.2.2.1: lower-cases scheme and host, keeps the case of the path', () => {
    expect(canonicalResourceUri('HTTPS://MCP.Example.COM/Server/MCP')).toBe('https://mcp.example.com/Server/MCP');
  });

  it('RFC 3986 §6.2.3: drops the scheme\'s default port, keeps any other', () => {
    expect(canonicalResourceUri('https://mcp.example.com:443/mcp')).toBe('https://mcp.example.com/mcp');
    expect(canonicalResourceUri('http://localhost:80/mcp')).toBe('http://localhost/mcp');
    expect(canonicalResourceUri('https://mcp.example.com:8443/mcp')).toBe('https://mcp.example.com:8443/mcp');
    expect(canonicalResourceUri('http://localhost:443/mcp')).toBe('http://localhost:443/mcp');
  });

  it('RFC 3986 §6.2.2.3: removes dot segments, percent-encoded ones too', () => {
    expect(canonicalResourceUri('https://mcp.example.com/a/./b/../mcp')).toBe('https://mcp.example.com/a/mcp');
    expect(canonicalResourceUri('https://mcp.example.com/a/%2e%2E/mcp')).toBe('https://mcp.example.com/mcp');
  });

  it('RFC 3986 §6.2.2.2: decodes percent-encoded unreserved characters; §6.2.2.1: upper-cases the hex of the rest', () => {
    expect(canonicalResourceUri('https://mcp.example.com/%7euser/%41%62%2d%5F%30')).toBe('https://mcp.example.com/~user/Ab-_0');
    expect(canonicalResourceUri('https://mcp.example.com/a%2fb%c3%a9')).toBe('https://mcp.example.com/a%2Fb%C3%A9');
  });

  it('percent-encodes what may not appear raw in a path (space, non-ASCII) as upper-case UTF-8 octets', () => {
    expect(canonicalResourceUri('https://mcp.example.com/my server/ä')).toBe('https://mcp.example.com/my%20server/%C3%A4');
  });

  it('MCP canonical server URI: no trailing slash on a path; the root is the bare origin', () => {
    expect(canonicalResourceUri('https://mcp.example.com/mcp/')).toBe('https://mcp.example.com/mcp');
    expect(canonicalResourceUri('https://mcp.example.com/')).toBe('https://mcp.example.com');
    expect(canonicalResourceUri('https://mcp.example.com')).toBe('https://mcp.example.com');
  });

  it('RFC 8707 §2: a query is kept as sent (it can be part of the resource); an empty one is dropped', () => {
    expect(canonicalResourceUri('https://mcp.example.com/mcp?tenant=b&x=%7e')).toBe('https://mcp.example.com/mcp?tenant=b&x=%7e');
    expect(canonicalResourceUri('https://mcp.example.com/?tenant=b')).toBe('https://mcp.example.com?tenant=b');
    expect(canonicalResourceUri('https://mcp.example.com/mcp?')).toBe('https://mcp.example.com/mcp');
  });

  it('IPv6 literals keep their brackets; their default port goes too', () => {
    expect(canonicalResourceUri('https://[::1]:443/mcp')).toBe('https://[::1]/mcp');
  });

  it('RFC 8707 §2: refuses a fragment, even an empty one', () => {
    expect(refusal('https://mcp.example.com/mcp#frag')).toBe('"https://mcp.example.com/mcp#frag" must not contain a fragment (RFC 8707 §2)');
    expect(refusal('https://mcp.example.com/mcp#')).toBe('"https://mcp.example.com/mcp#" must not contain a fragment (RFC 8707 §2)');
  });

  it('RFC 8707 §2: refuses a relative reference or a string that is no URI', () => {
    expect(refusal('/mcp')).toBe('"/mcp" is not an absolute URI');
    expect(refusal('mcp.example.com/mcp')).toBe('"mcp.example.com/mcp" is not an absolute URI');
    expect(refusal('')).toBe('"" is not an absolute URI');
  });

  it('refuses every scheme but https and http', () => {
    for (const value of ['ftp://mcp.example.com/mcp', 'file:///etc/passwd', 'javascript:alert(1)', 'urn:example:mcp', 'wss://mcp.example.com/mcp']) {
      expect(refusal(value)).toBe(`"${value}" must use https (or http for local development)`);
    }
  });

  it('refuses userinfo (RFC 3986 §3.2.1 credentials must not name a resource)', () => {
    expect(refusal('https://user@mcp.example.com/mcp')).toBe('"https://user@mcp.example.com/mcp" must not contain userinfo');
    expect(refusal('https://user:secret@mcp.example.com/mcp')).toBe('"https://user:secret@mcp.example.com/mcp" must not contain userinfo');
  });

  it('a canonical URI is its own canonical form', () => {
    for (const value of [
      'HTTPS://MCP.Example.COM:443/a/./b/../MCP/',
      'https://mcp.example.com/%7e%2f%c3%a9',
      'https://mcp.example.com/?q=1',
      'http://127.0.0.1:8080/mcp',
      'https://mcp.example.com/my server',
    ]) {
      const once = canonicalResourceUri(value);
      expect(canonicalResourceUri(once)).toBe(once);
    }
  });

  // BUG (reported): only one trailing slash is removed, so "/mcp//" canonicalises to "/mcp/" — a
  // non-root path ending in "/", against the function's own contract — and canonicalising that
  // again gives "/mcp". Fix: strip every trailing slash (`path.replace(/\/+$/, '')`).
  it('a path ending in several slashes canonicalises to one form (idempotent, no trailing slash)', () => {
    const once = canonicalResourceUri('https://mcp.example.com/mcp//');
    expect(once).toBe('https://mcp.example.com/mcp');
    expect(canonicalResourceUri(once)).toBe(once);
  });
});

describe('htuComparisonForm — RFC 9449 §4.3 step 9 (htu ignoring query and fragment, RFC 3986 §6.2.2–6.2.3)', () => {
  it('RFC 9449 figure 13: the htu of the example proof is already in comparison form', () => {
    expect(htuComparisonForm('https://resource.example.org/protectedresource')).toBe('https://resource.example.org/protectedresource');
  });

  it('drops query and fragment', () => {
    expect(htuComparisonForm('https://mcp.example.com/mcp?session=1#top')).toBe('https://mcp.example.com/mcp');
  });

  it('normalises case, default port, dot segments and percent-encoding', () => {
    expect(htuComparisonForm('HTTPS://MCP.EXAMPLE.COM:443/a/../%6Dcp')).toBe('https://mcp.example.com/mcp');
    expect(htuComparisonForm('https://mcp.example.com/a%2fb%c3%a9')).toBe('https://mcp.example.com/a%2Fb%C3%A9');
  });

  it('keeps the path exactly otherwise: a trailing slash is another URI, the root is "/"', () => {
    expect(htuComparisonForm('https://mcp.example.com/mcp/')).toBe('https://mcp.example.com/mcp/');
    expect(htuComparisonForm('https://mcp.example.com')).toBe('https://mcp.example.com/');
    expect(htuComparisonForm('https://mcp.example.com:8443/')).toBe('https://mcp.example.com:8443/');
  });

  it('is undefined for anything that is not an absolute http(s) URI without userinfo', () => {
    for (const value of ['/mcp', 'not a uri', '', 'ftp://mcp.example.com/mcp', 'javascript:alert(1)', 'https://user:pw@mcp.example.com/mcp', 'https://user@mcp.example.com/mcp']) {
      expect(htuComparisonForm(value)).toBeUndefined();
    }
  });
});

describe('expectedHtu — the public base URL joined with the request path, never the Host header', () => {
  const origin = 'https://mcp.example.com';

  it('origin-form request target: the path, without query or fragment', () => {
    expect(expectedHtu(origin, '/mcp')).toBe('https://mcp.example.com/mcp');
    expect(expectedHtu(origin, '/mcp?session=abc#x')).toBe('https://mcp.example.com/mcp');
    expect(expectedHtu(origin, '/')).toBe('https://mcp.example.com/');
  });

  it('absolute-form request target (RFC 9112 §3.2.2): only its path counts, its authority is ignored', () => {
    expect(expectedHtu(origin, 'http://attacker.example:8080/mcp?q=1')).toBe('https://mcp.example.com/mcp');
  });

  it('a path that looks like an authority ("//evil.example/x", "/\\\\evil.example/x") stays a path on the public host', () => {
    expect(expectedHtu(origin, '//evil.example/x')).toBe('https://mcp.example.com//evil.example/x');
    expect(expectedHtu(origin, '/\\evil.example/x')).toBe('https://mcp.example.com//evil.example/x');
  });

  it('dot segments and percent-encoding in the request path are normalised like the proof\'s htu', () => {
    expect(expectedHtu(origin, '/a/../mcp')).toBe('https://mcp.example.com/mcp');
    expect(expectedHtu(origin, '/a/%2e%2e/%6dcp')).toBe('https://mcp.example.com/mcp');
  });

  it('matches the comparison form of what a client signs for the same request', () => {
    expect(expectedHtu('https://mcp.example.com:443', '/mcp?x=1')).toBe(htuComparisonForm('https://MCP.example.com/mcp#frag'));
    expect(expectedHtu('https://mcp.example.com:8443', '/mcp')).toBe('https://mcp.example.com:8443/mcp');
  });

  it('is undefined for a target that names no path (asterisk-form, empty, bare query, unparseable)', () => {
    for (const target of ['*', '', '?x=1', 'http://[bad']) expect(expectedHtu(origin, target)).toBeUndefined();
  });
});
