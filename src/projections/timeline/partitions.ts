// Month partitions of the timeline items table, created on demand when a batch brings an item of a
// month not seen before. Dropping an old partition (tiering) is a plain DROP TABLE of its name.
import type pg from 'pg';
import { schemaIdent, tableIn } from '../shared/sql.js';

/** 'YYYY-MM-01' → the partition's table name, e.g. items_p202501. */
export const partitionName = (month: string): string => `items_p${month.slice(0, 4)}${month.slice(5, 7)}`;

function nextMonth(month: string): string {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return mon === 12 ? `${String(year + 1).padStart(4, '0')}-01-01` : `${String(year).padStart(4, '0')}-${String(mon + 1).padStart(2, '0')}-01`;
}

/** Creates the partitions of `months` that do not exist yet in `schema`. */
export async function ensureMonthPartitions(client: pg.ClientBase, schema: string, months: readonly string[]): Promise<void> {
  if (months.length === 0) return;
  const missing = await client.query<{ name: string }>(
    `SELECT name FROM unnest($2::text[]) AS name WHERE to_regclass(quote_ident($1) || '.' || quote_ident(name)) IS NULL`,
    [schema, months.map(partitionName)],
  );
  const absent = new Set(missing.rows.map((r) => r.name));
  for (const month of months) {
    const name = partitionName(month);
    if (!absent.has(name)) continue;
    if (!/^\d{4}-\d{2}-01$/.test(month)) throw new Error(`Invalid partition month ${month}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schemaIdent(schema)}."${name}" PARTITION OF ${tableIn(schema, 'items')}
         FOR VALUES FROM ('${month}') TO ('${nextMonth(month)}')`,
    );
  }
}
