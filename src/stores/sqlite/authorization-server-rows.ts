/**
 * The SQLite side of the shared row codec (`../sql/authorization-server-rows.ts`): lists and
 * JWKs are JSON text, and statements bind parameters by name (`@column`).
 */
import { createRowCodec } from '../sql/authorization-server-rows.js';

/** Column types of the SQLite tables: lists and JWKs are JSON text. */
export type SqliteColumns = { list: string; jwk: string };

/** Parameters bound by name: one per column, `null` for an absent optional field. */
export type Params = Record<string, string | number | null>;

/** `@a, @b, …`: the named placeholders of `columns`, which the codec's parameters bind. */
export const namedPlaceholders = (columns: readonly string[]): string => columns.map((column) => `@${column}`).join(', ');

/** Rows ↔ records for SQLite. */
export const codec = createRowCodec<SqliteColumns, Params>({
  writeList: (list) => JSON.stringify(list),
  readList: (text) => JSON.parse(text) as string[],
  readJwk: (text) => JSON.parse(text) as Record<string, unknown>,
  // The row's keys are its columns: better-sqlite3 binds each to its `@column`.
  params: (row) => row as Params,
});
