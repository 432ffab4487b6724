/**
 * Typed emitters of `warden.audit/1` bodies: an authorization decision of a resource, and a
 * security event of the authorization server (or an operator). Everything that may come from a
 * client — ids, tool and method names, free text — is bounded and scrubbed of token-shaped text.
 */
import type { AuthorizationDecision, RequestContext } from '../oauth/authorization-decision.js';
import { tokenIdHash } from '../oauth/token-id-hash.js';
import type { AuditEventBody, AuditEventType } from './audit-event.js';
import { redactString } from './logger.js';

/** Longest string field written; longer values are cut (a client chooses its tool names). */
const MAX_TEXT = 512;
/** Most list entries written (methods, tools, scopes). */
const MAX_ITEMS = 32;

// Every pattern redactString removes needs one of these (a JWT's "eyJ", a scheme and a space, a
// URL, a query): most ids and names have none, and skip the scrub — it runs on every decision.
const MAY_HOLD_CREDENTIALS = /eyJ|bearer\s|dpop\s|basic\s|:\/\/|[?&]/i;

function text(value: string): string {
  const cleaned = MAY_HOLD_CREDENTIALS.test(value) ? redactString(value) : value;
  return cleaned.length > MAX_TEXT ? `${cleaned.slice(0, MAX_TEXT)}…` : cleaned;
}

function list(values: readonly string[]): string[] {
  return values.slice(0, MAX_ITEMS).map(text);
}

// A token is presented many times: its jti's hash is remembered (bounded) rather than recomputed.
const jtiHashes = new Map<string, string>();
function jtiHashOf(jti: string): string {
  let hash = jtiHashes.get(jti);
  if (hash === undefined) {
    hash = tokenIdHash(jti);
    if (jtiHashes.size >= 4096) jtiHashes.clear();
    jtiHashes.set(jti, hash);
  }
  return hash;
}

/** A security event of the authorization server or an operator (the AS's `AuditEvent` fits). */
export interface SecurityEventInput {
  type: Exclude<AuditEventType, 'authz.decision'>;
  clientId?: string;
  subject?: string;
  grantId?: string;
  grantType?: string;
  resource?: string;
  scopes?: string[];
  jkt?: string;
  jtiHash?: string;
  admin?: string;
  detail?: string;
}

/** The body of one authorization decision of the resource named `server`. */
export function decisionEvent(decision: AuthorizationDecision, server?: string): AuditEventBody {
  // Two literals rather than a conditional spread (a throw-away object per decision); same key order.
  const body: AuditEventBody =
    server === undefined
      ? { type: 'authz.decision', outcome: decision.outcome, reason: text(decision.reason), status: decision.status, resource: decision.resource, methods: list(decision.methods), tools: list(decision.tools) }
      : { type: 'authz.decision', outcome: decision.outcome, reason: text(decision.reason), status: decision.status, server: text(server), resource: decision.resource, methods: list(decision.methods), tools: list(decision.tools) };
  if (decision.clientId !== undefined) body.clientId = text(decision.clientId);
  if (decision.subject !== undefined) body.subject = text(decision.subject);
  if (decision.jkt !== undefined) body.jkt = text(decision.jkt);
  if (decision.jti !== undefined) body.jtiHash = jtiHashOf(decision.jti);
  if (decision.scheme !== undefined) body.scheme = decision.scheme;
  addRequest(body, decision.context);
  const last = decision.steps[decision.steps.length - 1];
  if (last !== undefined) body.durationMs = Math.round((last[1] - decision.startedAt) * 1000) / 1000;
  return body;
}

/** The request an event happened in: its id, source address and trace, when known. */
function addRequest(body: AuditEventBody, context: RequestContext | undefined): void {
  if (context === undefined) return;
  if (context.requestId !== undefined) body.requestId = text(context.requestId);
  if (context.sourceAddress !== undefined) body.source = text(context.sourceAddress);
  if (context.trace !== undefined) {
    body.traceId = context.trace.traceId;
    body.spanId = context.trace.spanId;
  }
}

/** Sign-in events carry their outcome too, so one filter finds every success or failure. */
const OUTCOMES: Partial<Record<AuditEventType, AuditEventBody['outcome']>> = { 'login.succeeded': 'success', 'login.failed': 'failure' };

/**
 * The body of one security event; `context` is the request it happened in (the stack passes the
 * one its router is handling), so the record carries the same request id and trace as the
 * resource's decisions.
 */
export function securityEvent(input: SecurityEventInput, context?: RequestContext): AuditEventBody {
  const body: AuditEventBody = { type: input.type };
  const outcome = OUTCOMES[input.type];
  if (outcome !== undefined) body.outcome = outcome;
  if (input.clientId !== undefined) body.clientId = text(input.clientId);
  if (input.subject !== undefined) body.subject = text(input.subject);
  if (input.grantId !== undefined) body.grantId = text(input.grantId);
  if (input.grantType !== undefined) body.grantType = text(input.grantType);
  if (input.resource !== undefined) body.resource = text(input.resource);
  if (input.scopes !== undefined) body.scopes = list(input.scopes);
  if (input.jkt !== undefined) body.jkt = text(input.jkt);
  if (input.jtiHash !== undefined) body.jtiHash = text(input.jtiHash);
  if (input.admin !== undefined) body.admin = text(input.admin);
  if (input.detail !== undefined) body.detail = text(input.detail);
  addRequest(body, context);
  return body;
}
