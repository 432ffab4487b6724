import { Gauntlet } from './gauntlet.js';
import type { ProtectedResourceMetadata } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { VerifyRequest, VerifyResult } from './types.js';

/** The framework-neutral resource server: what every adapter calls. */
export class ResourceServerCore {
  readonly options: Readonly<ResolvedOptions>;
  readonly #gauntlet: Gauntlet;
  readonly #metadata: string;
  readonly #metadataPaths: ReadonlySet<string>;

  constructor(options: Readonly<ResolvedOptions>) {
    this.options = options;
    this.#gauntlet = new Gauntlet(options);
    this.#metadata = JSON.stringify(buildMetadata(options));
    this.#metadataPaths = new Set(options.metadataPaths);
  }

  /** Runs the full gauntlet on one request. Never throws. */
  verify(request: VerifyRequest): Promise<VerifyResult> {
    return this.#gauntlet.verify(request);
  }

  /** A fresh copy of the RFC 9728 document. */
  metadata(): ProtectedResourceMetadata {
    return JSON.parse(this.#metadata) as ProtectedResourceMetadata;
  }

  /** True when `url` (path + query) is one of this resource's well-known metadata paths. */
  isMetadataPath(url: string): boolean {
    const q = url.indexOf('?');
    return this.#metadataPaths.has(q === -1 ? url : url.slice(0, q));
  }
}

/**
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.2 (dpop_bound_access_tokens_required)
 */
function buildMetadata(o: Readonly<ResolvedOptions>): ProtectedResourceMetadata {
  const doc: ProtectedResourceMetadata = {
    resource: o.resource,
    authorization_servers: [...o.authorizationServers],
    scopes_supported: [...o.scopesSupported],
    bearer_methods_supported: ['header'],
  };
  if (o.dpop !== 'disabled') {
    doc.dpop_signing_alg_values_supported = [...o.dpopAlgorithmList];
    doc.dpop_bound_access_tokens_required = o.dpop === 'required';
  }
  if (o.resourceName !== undefined) doc.resource_name = o.resourceName;
  if (o.resourceDocumentation !== undefined) doc.resource_documentation = o.resourceDocumentation;
  return doc;
}
