/**
 * The key under which fetches of Client ID Metadata Documents are counted per host: the host's
 * registrable part, so that the subdomains and ports of one domain share one budget.
 */
import { isIP } from 'node:net';
import { sourceBucket } from '../client-address.js';

/**
 * Two-label public suffixes common enough to matter (from the Public Suffix List's ICANN
 * section): under these a registrable domain has three labels (`example.co.uk`). Only real public
 * suffixes belong here — listing a registrable domain would give its owner a budget per subdomain.
 */
const TWO_LABEL_PUBLIC_SUFFIXES: ReadonlySet<string> = new Set([
  ...['co', 'org', 'me', 'ltd', 'plc', 'net', 'ac', 'gov', 'sch', 'nhs'].map((l) => `${l}.uk`),
  ...['com', 'net', 'org', 'edu', 'gov', 'asn', 'id'].map((l) => `${l}.au`),
  ...['co', 'net', 'org', 'govt', 'ac', 'gen', 'school'].map((l) => `${l}.nz`),
  ...['co', 'ne', 'or', 'ac', 'go', 'ad', 'ed', 'gr', 'lg'].map((l) => `${l}.jp`),
  ...['co', 'or', 'ne', 'ac', 'go', 're'].map((l) => `${l}.kr`),
  ...['co', 'org', 'gov', 'ac', 'net', 'web'].map((l) => `${l}.za`),
  ...['co', 'net', 'org', 'firm', 'gen', 'ind', 'ac', 'edu', 'gov', 'res'].map((l) => `${l}.in`),
  ...['co', 'org', 'net', 'ac', 'gov', 'muni'].map((l) => `${l}.il`),
  ...['co', 'or', 'in', 'ac', 'go'].map((l) => `${l}.th`),
  ...['co', 'or', 'web', 'ac', 'go', 'net', 'my', 'biz', 'sch'].map((l) => `${l}.id`),
  ...['com', 'net', 'org', 'gov', 'edu'].flatMap((l) => ['br', 'cn', 'hk', 'tw', 'sg', 'mx', 'ar', 'tr', 'my', 'ph', 'vn', 'pk', 'eg', 'sa', 'ng', 'pl', 'ua'].map((cc) => `${l}.${cc}`)),
  'gob.mx', 'gob.ar', 'idv.hk', 'idv.tw', 'per.sg', 'co.ke', 'or.ke', 'ac.ke', 'go.ke',
]);

/**
 * The per-host rate key of `host` (a URL's host: hostname, optional port, IPv6 in brackets).
 * Ports are dropped, and so is a trailing dot. An IP literal counts per address — IPv6 per /64,
 * which one party holds whole (see `sourceBucket`). A name counts by its last two labels
 * (`a.clients.example.com` → `example.com`), or its last three when the last two are a listed
 * two-label public suffix (`app.example.co.uk` → `example.co.uk`).
 *
 * Why not the whole Public Suffix List: it is ~10,000 rules that change monthly, and this only
 * has to make wildcard subdomains useless for multiplying a budget. The simple rule never counts
 * finer than the registrable domain (so one registrant has one budget) but sometimes coarser:
 * clients hosted under a shared platform suffix (`*.github.io`, `*.vercel.app`) or an unlisted
 * two-label suffix share one budget. That only ever refuses sooner — a first fetch may get 503
 * while someone floods the same platform — and a known client is still served from its cached,
 * then stale, record.
 *
 * @see https://publicsuffix.org/
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-5.3
 */
export function hostRateKey(host: string): string {
  let name = host.toLowerCase();
  if (name.startsWith('[')) return sourceBucket(name);
  name = name.replace(/:\d*$/, '').replace(/\.$/, '');
  if (isIP(name) !== 0) return sourceBucket(name);
  const labels = name.split('.');
  if (labels.length <= 2) return name;
  const lastTwo = labels.slice(-2).join('.');
  return TWO_LABEL_PUBLIC_SUFFIXES.has(lastTwo) ? labels.slice(-3).join('.') : lastTwo;
}
