/** What one case of the differential corpus is, and the exact answers the gateway contract demands. */

/** Why a case exists; failures are reported grouped by it. */
export type CaseGroup =
  | 'baseline'
  | 'member-fold'
  | 'member-lookalike'
  | 'duplicate-member'
  | 'encoding'
  | 'charset'
  | 'content-encoding'
  | 'content-type'
  | 'batch'
  | 'notification'
  | 'nesting'
  | 'number'
  | 'method-value'
  | 'tool-value'
  | 'message-shape'
  | 'path'
  | 'http-method'
  | 'sep-2243-header'
  | 'spoofed-header';

/** The exact answer the gateway contract demands. */
export interface Expectation {
  status: number;
  /**
   * The body must be a JSON-RPC error with this `error.code`; `'any'`: a JSON-RPC error with some
   * code; absent: only the status is demanded.
   */
  rpcCode?: number | 'any';
  /** The rule, for failure messages. */
  because: string;
}

export interface DiffCase {
  /** Unique and stable, e.g. `member/params/long-s/shadow-after`. */
  id: string;
  group: CaseGroup;
  /** HTTP method; POST when absent. */
  method?: string;
  /**
   * Raw text appended to the resource's mount path in place of its MCP endpoint (path cases).
   * Sent verbatim on the request line: no client-side URL normalisation.
   */
  path?: string;
  /** Headers added to the harness defaults; `null` removes a default; an array sends the header once per value. */
  headers?: Record<string, string | string[] | null>;
  body: Buffer;
  /** Forwarding headers the client wrote (name, value); the upstream must not receive these values. */
  spoofed?: ReadonlyArray<readonly [name: string, value: string]>;
  /** A legitimate request: Warden must forward it (refusing it is a failure too). */
  mustForward?: boolean;
  expect?: Expectation;
}


export const PARSE_ERROR = (because: string): Expectation => ({ status: 400, rpcCode: -32700, because });
export const INVALID_REQUEST = (because: string): Expectation => ({ status: 400, rpcCode: -32600, because });
export const UNSUPPORTED_MEDIA = (because: string): Expectation => ({ status: 415, rpcCode: 'any', because });
export const HEADER_MISMATCH = (because: string): Expectation => ({ status: 400, rpcCode: -32020, because });
