/**
 * The last audit records of this instance, in memory, for the console's audit page: an audit
 * sink holding a bounded ring, with filters and paging (newest first).
 */
import type { AuditRecord } from '../observability/audit-event.js';
import type { AuditSink } from '../observability/audit-trail.js';

/** Filters of the audit page; empty strings match everything. */
export interface RecordFilter {
  user?: string;
  client?: string;
  tool?: string;
  decision?: string;
  type?: string;
  /** Only records at or after this time (RFC 3339 or `YYYY-MM-DDTHH:MM`). */
  since?: string;
}

/** An audit sink remembering the newest `capacity` records. */
export class RecentRecords implements AuditSink {
  readonly #records: Array<Readonly<AuditRecord>> = [];
  constructor(readonly capacity = 2000) {}

  write(record: Readonly<AuditRecord>): void {
    this.#records.push(record);
    if (this.#records.length > this.capacity) this.#records.shift();
  }

  /** One page of the matching records, newest first, and how many matched in all. */
  query(filter: RecordFilter, page: number, pageSize: number): { records: Array<Readonly<AuditRecord>>; total: number } {
    const since = filter.since ? Date.parse(filter.since) : Number.NaN;
    const matches = this.#records.filter(
      (r) =>
        (!filter.user || r.subject === filter.user || r.admin === filter.user) &&
        (!filter.client || r.clientId === filter.client) &&
        (!filter.tool || (r.tools ?? []).includes(filter.tool)) &&
        (!filter.decision || r.outcome === filter.decision) &&
        (!filter.type || r.type === filter.type) &&
        (Number.isNaN(since) || Date.parse(r.time) >= since),
    );
    matches.reverse();
    return { records: matches.slice(page * pageSize, (page + 1) * pageSize), total: matches.length };
  }
}
