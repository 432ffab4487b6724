/**
 * The audit event schema `warden.audit/1` as types: one record per authorization decision of a
 * resource (or the gateway) and per security event of the authorization server or an operator.
 * The JSON Schema of the same records is `schemas/audit-event.v1.json`; the two are kept in step
 * by a test that validates every event type against it.
 *
 * No record ever holds a token, DPoP proof, authorization code, client secret or password: an
 * access token appears only as the SHA-256 of its `jti` (`jtiHash`), free text is scrubbed of
 * anything token-shaped.
 */

/** The schema identifier every record carries in `schema`. */
export const AUDIT_SCHEMA = 'warden.audit/1';

/** Every event type of `warden.audit/1`. */
export const AUDIT_EVENT_TYPES = [
  // Resource server / gateway.
  'authz.decision',
  // Authorization server.
  'login.succeeded',
  'login.failed',
  'consent.given',
  'consent.revoked',
  'device.requested',
  'device.denied',
  'code.issued',
  'code.redeemed',
  'code.reuse_detected',
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'grant.revoked',
  'refresh.reuse_detected',
  'client.registered',
  'client.expired',
  'client.deleted',
  'client.disabled',
  'client.enabled',
  'keys.rotated',
  // The fleet registry (admin API).
  'registry.changed',
] as const;

/** One event type. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** What an event says, before the trail stamps it (instance, sequence, time, chain). */
export interface AuditEventBody {
  type: AuditEventType;
  /** `allow` / `deny` for decisions; `success` / `failure` for sign-in. */
  outcome?: 'allow' | 'deny' | 'success' | 'failure';
  /** Decisions: `ok`, the wire error code, or `no_credentials`. */
  reason?: string;
  /** Decisions: the HTTP status answered (200: passed on). */
  status?: number;
  /** Name of the protected MCP server (the configured resource name). */
  server?: string;
  /** Canonical URI of the resource. */
  resource?: string;
  /** JSON-RPC methods of the request. */
  methods?: string[];
  /** Tools a `tools/call` names. */
  tools?: string[];
  clientId?: string;
  subject?: string;
  /** RFC 7638 thumbprint of the DPoP key involved. */
  jkt?: string;
  /** SHA-256 (base64url) of the access token's `jti`. */
  jtiHash?: string;
  /** Authorization scheme used (`Bearer` or `DPoP`). */
  scheme?: 'Bearer' | 'DPoP';
  requestId?: string;
  /** Peer address the request came from. */
  source?: string;
  grantId?: string;
  grantType?: string;
  scopes?: string[];
  /** The operator who acted, for changes made from the console or admin commands. */
  admin?: string;
  /** Decisions: time spent in the gauntlet, in milliseconds. */
  durationMs?: number;
  /** W3C trace context of the request, when traced (correlates with OpenTelemetry spans). */
  traceId?: string;
  spanId?: string;
  /** Free text; scrubbed of anything token-shaped. */
  detail?: string;
}

/** A record as written: the body stamped by the trail and chained to its predecessor. */
export interface AuditRecord extends AuditEventBody {
  schema: typeof AUDIT_SCHEMA;
  /** The instance that wrote it (configured, or the host name). */
  instance: string;
  /** This process's run of the instance: a chain starts with each run. */
  run: string;
  /** Position in the chain of `instance`/`run`, from 0. */
  seq: number;
  /** RFC 3339 time, UTC, millisecond precision. */
  time: string;
  /** SHA-256 (hex) of the previous record's line; 64 zeros for the first record of a run. */
  prev: string;
}

/** `prev` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
