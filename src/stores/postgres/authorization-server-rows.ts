/**
 * The PostgreSQL side of the shared row codec (`../sql/authorization-server-rows.ts`): lists are
 * `text[]` (bound as JS arrays), JWKs `jsonb` (bound as JSON text), and statements bind
 * parameters by position (`$1`, `$2`, …). Both arrive parsed, as fresh arrays and objects, so
 * they pass into records as they are and every record returned is the caller's own. `bigint`
 * columns arrive as numbers (see `openPool`).
 */
import { createRowCodec } from '../sql/authorization-server-rows.js';

/** Column types of the PostgreSQL tables as `pg` reads them. */
export type PostgresColumns = { list: string[]; jwk: Record<string, unknown> };

/** Positional parameters, in the order of the columns they are for. */
export type Params = unknown[];

/** `$1, $2, …` for `count` parameters. */
export const placeholders = (count: number): string => Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');

/** Rows ↔ records for PostgreSQL. */
export const codec = createRowCodec<PostgresColumns, Params>({
  writeList: (list) => list,
  readList: (array) => array,
  readJwk: (object) => object,
  params: (row, columns) => columns.map((column) => (row as Record<string, unknown>)[column]),
});
