import { describe, expect, it } from 'vitest';
import { purgeExpiredStatements } from './purge-expired.js';

describe('purgeExpired statements (shared by SQLite and PostgreSQL)', () => {
  it('contract: bindsIdle says exactly which statements use the idle placeholder (PostgreSQL binds by position)', () => {
    const statements = purgeExpiredStatements({ table: (name) => `"s".${name}`, now: '$1', idle: '$2' });
    for (const { sql, bindsIdle } of statements) {
      expect(sql).toContain('$1');
      expect(sql.includes('$2'), sql).toBe(bindsIdle);
    }
  });

  it('contract: children of purged grants go before the grants, so that they are counted (no ON DELETE CASCADE)', () => {
    const sql = purgeExpiredStatements({ table: (name) => name, now: '@now', idle: '@idle' }).map((statement) => statement.sql);
    expect(sql.at(-1)).toMatch(/^DELETE FROM grants AS g WHERE /);
    expect(sql.slice(-3, -1).map((text) => text.split(' WHERE ')[0])).toEqual(['DELETE FROM refresh_tokens', 'DELETE FROM access_tokens']);
  });
});
