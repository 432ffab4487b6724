/**
 * OpenTelemetry over OTLP/HTTP (JSON), with the official `@opentelemetry` packages — optional
 * peers, loaded only when configured: one SERVER span per request (the client's W3C
 * `traceparent` continued when it sends one) with the gauntlet's steps as span events and the
 * decision as attributes; and every audit record as a log record, correlated with its span.
 *
 * What reaches a span or log record is what the audit record holds: never a token, proof, code,
 * secret or password (identifiers only, and the `jti` as a hash).
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
import type { AuthorizationDecision, RequestTrace } from '../oauth/authorization-decision.js';
import type { AuditRecord } from './audit-event.js';
import type { AuditSink } from './audit-trail.js';

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Base URL of the OTLP/HTTP receiver (a collector): traces go to `/v1/traces`, logs to `/v1/logs`. */
  endpoint: string;
  /** Extra headers of every export (e.g. the collector's API key). */
  headers?: Readonly<Record<string, string>>;
  /** `service.name` of the resource. */
  serviceName: string;
  /** `service.instance.id` of the resource (the audit instance). */
  instance: string;
  /** Export spans (default true) and audit records as logs (default true). */
  traces?: boolean;
  logs?: boolean;
}

/** A running exporter. */
export interface Telemetry {
  /** Starts the span of one request; `traceparent` is the client's header, if any. */
  startRequest(method: string, path: string, traceparent: string | undefined): RequestSpan | undefined;
  /** Sends each audit record as a log record; undefined when logs are off. */
  readonly auditSink: AuditSink | undefined;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The span of one request. */
export interface RequestSpan extends RequestTrace {
  /** Ends the span with the response status and the part of the stack that answered. */
  end(status: number, route: string): void;
}

/** Thrown when telemetry is configured but the packages are not installed. */
export class TelemetryUnavailableError extends Error {
  override name = 'TelemetryUnavailableError';
}

const PACKAGES = ['@opentelemetry/api', '@opentelemetry/resources', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-logs', '@opentelemetry/exporter-logs-otlp-http'];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

async function load() {
  try {
    const [api, resources, sdkTrace, traceExporter, sdkLogs, logExporter] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/sdk-logs'),
      import('@opentelemetry/exporter-logs-otlp-http'),
    ]);
    return { api, resources, sdkTrace, traceExporter, sdkLogs, logExporter };
  } catch (error) {
    throw new TelemetryUnavailableError(`openTelemetry is configured, but its packages are not installed: npm install ${PACKAGES.join(' ')}`, { cause: error });
  }
}

/** Starts the exporters. @throws {TelemetryUnavailableError} without the packages. */
export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { api, resources, sdkTrace, traceExporter, sdkLogs, logExporter } = await load();
  const base = options.endpoint.replace(/\/+$/, '');
  const headers = { ...options.headers };
  const resource = resources.resourceFromAttributes({ 'service.name': options.serviceName, 'service.instance.id': options.instance });
  const tracerProvider =
    options.traces === false
      ? undefined
      : new sdkTrace.TracerProvider({ resource, spanProcessors: [new sdkTrace.BatchSpanProcessor({ exporter: new traceExporter.OTLPTraceExporter({ url: `${base}/v1/traces`, headers }) })] });
  const loggerProvider =
    options.logs === false
      ? undefined
      : new sdkLogs.LoggerProvider({ resource, processors: [new sdkLogs.BatchLogRecordProcessor({ exporter: new logExporter.OTLPLogExporter({ url: `${base}/v1/logs`, headers }) })] });
  const tracer = tracerProvider?.getTracer('mcp-warden');
  const logger = loggerProvider?.getLogger('mcp-warden.audit');
  const epochMs = (t: number) => performance.timeOrigin + t;

  const startRequest = (method: string, path: string, traceparent: string | undefined): RequestSpan | undefined => {
    if (tracer === undefined) return undefined;
    const parent = traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent);
    let context = api.ROOT_CONTEXT;
    if (parent && !/^0+$/.test(parent[1]!) && !/^0+$/.test(parent[2]!)) {
      context = api.trace.setSpanContext(context, { traceId: parent[1]!, spanId: parent[2]!, traceFlags: Number.parseInt(parent[3]!, 16) & 1, isRemote: true });
    }
    const span = tracer.startSpan(`${method} ${path.length > 128 ? `${path.slice(0, 128)}…` : path}`, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path.slice(0, 512) } }, context);
    const { traceId, spanId, traceFlags } = span.spanContext();
    return {
      traceId,
      spanId,
      traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`,
      decision(decision: AuthorizationDecision) {
        const last = decision.steps.length - 1;
        decision.steps.forEach(([step, at], i) => {
          const failed = i === last && decision.outcome === 'deny';
          span.addEvent(`gauntlet.${step}`, failed ? { 'warden.outcome': 'failed', 'warden.reason': decision.reason } : { 'warden.outcome': 'passed' }, epochMs(at));
        });
        span.setAttributes({
          'warden.decision': decision.outcome,
          'warden.reason': decision.reason,
          'warden.resource': decision.resource,
          ...(decision.methods.length > 0 ? { 'mcp.methods': [...decision.methods] } : {}),
          ...(decision.tools.length > 0 ? { 'mcp.tools': [...decision.tools] } : {}),
          ...(decision.clientId === undefined ? {} : { 'oauth.client_id': decision.clientId }),
          ...(decision.subject === undefined ? {} : { 'enduser.id': decision.subject }),
          ...(decision.jkt === undefined ? {} : { 'dpop.jkt': decision.jkt }),
        });
      },
      end(status: number, route: string) {
        span.setAttributes({ 'http.response.status_code': status, 'warden.route': route });
        if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
      },
    };
  };

  const auditSink: AuditSink | undefined =
    logger === undefined
      ? undefined
      : {
          write(record: Readonly<AuditRecord>) {
            const attributes: Record<string, string | number | string[]> = {};
            for (const [key, value] of Object.entries(record)) {
              if (typeof value === 'string' || typeof value === 'number') attributes[`warden.${key}`] = value;
              else if (Array.isArray(value)) attributes[`warden.${key}`] = value.map(String);
            }
            const context =
              record.traceId === undefined || record.spanId === undefined
                ? undefined
                : api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: record.traceId, spanId: record.spanId, traceFlags: 1 });
            logger.emit({
              timestamp: Date.parse(record.time),
              severityNumber: record.outcome === 'deny' || record.outcome === 'failure' || record.type.endsWith('reuse_detected') ? 13 : 9,
              severityText: record.outcome === 'deny' || record.outcome === 'failure' || record.type.endsWith('reuse_detected') ? 'WARN' : 'INFO',
              eventName: `warden.audit.${record.type}`,
              body: record.type,
              attributes,
              ...(context === undefined ? {} : { context }),
            });
          },
        };

  return {
    startRequest,
    auditSink,
    async flush() {
      await Promise.allSettled([tracerProvider?.forceFlush(), loggerProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.allSettled([tracerProvider?.shutdown(), loggerProvider?.shutdown()]);
    },
  };
}
