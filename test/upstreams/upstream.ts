/**
 * What every upstream of the gateway differential tests offers, whatever its language: a URL
 * Warden forwards to, and a record — kept on the upstream's side of the trust boundary — of every
 * HTTP request it received and every tool it ran. The test reads the record through a channel
 * that does not pass through Warden (in process for Node upstreams, a secret control path on the
 * upstream's own port for Go and Python).
 */

/** One HTTP request exactly as the upstream received it. */
export interface ReceivedRequest {
  /** 1-based, in arrival order. */
  seq: number;
  method: string;
  /** The raw request target (path and query), as on the request line. */
  target: string;
  /** Lower-case names; every value received for the name, in order. */
  headers: Record<string, string[]>;
  /** The raw body bytes. */
  body: Buffer;
}

/** A tool the upstream actually ran. */
export interface ToolRun {
  /** `seq` of the request that ran it (for SDK upstreams: the latest request when it ran). */
  seq: number;
  tool: string;
}

/** Where a reader of the record stands: how many requests and runs it has seen. */
export interface LogCursor {
  requests: number;
  runs: number;
}

/** What arrived after a {@link LogCursor}. */
export interface LogSlice {
  requests: ReceivedRequest[];
  runs: ToolRun[];
}

/** The MCP transport an upstream speaks. */
export type UpstreamTransport = 'streamable-http' | 'legacy-sse';

export interface DiffUpstream {
  /** Short name used in test titles and reports: `go`, `python`, `sdk-v1`, `sdk-v1-sse`, `sdk-v2`. */
  readonly name: string;
  /** What it is, for reports. */
  readonly description: string;
  /** `resources[].upstream`: the URL Warden forwards to. */
  readonly url: string;
  readonly transport: UpstreamTransport;
  /** Tools it offers (besides `echo` and `admin_delete`, which all offer). */
  readonly tools: readonly string[];
  /** The current end of the record. */
  cursor(): Promise<LogCursor>;
  /**
   * Resolves once work started by requests already answered has finished. Only upstreams that
   * answer before they work (the legacy SSE transport answers 202, then runs the tool) need it.
   */
  idle?(): Promise<void>;
  /** Everything recorded after `cursor`. */
  since(cursor: LogCursor): Promise<LogSlice>;
  /** Stops it and everything it started. Idempotent. */
  close(): Promise<void>;
}
