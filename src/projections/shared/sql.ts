// SQL plumbing shared by the projections: schema-qualified names (a projection's schema is a
// parameter, so rebuilds can target a shadow schema) and set-wise writes. Rows travel as one JSON
// parameter expanded by json_to_recordset: one round trip per statement whatever the row count.
import type pg from 'pg';

/** A pool or a client: anything that runs a query. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are code-chosen, but validated anyway: they are spliced into SQL text. */
export function schemaIdent(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`Invalid projection schema name: ${schema}`);
  return `"${schema}"`;
}

export const tableIn = (schema: string, table: string): string => `${schemaIdent(schema)}."${table}"`;

/** A column of a JSON recordset: name and PostgreSQL type. */
export type RecordColumn = readonly [name: string, type: string];

/** `json_to_recordset($n::json) AS alias(col type, ...)`: the FROM item of a set-wise write. */
export function recordset(columns: readonly RecordColumn[], alias = 'x', param = 1): string {
  const defs = columns.map(([name, type]) => `"${name}" ${type}`).join(', ');
  return `json_to_recordset($${param}::json) AS ${alias}(${defs})`;
}

const jsonReplacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** Serialises rows for json_to_recordset (bigints as strings, which PostgreSQL casts on input). */
export const rowsJson = (rows: readonly object[]): string => JSON.stringify(rows, jsonReplacer);

const CHUNK_ROWS = 5_000;

/** Runs `sql` (whose $1 is the JSON rows) once per chunk of rows; nothing when there are none. */
export async function withRows(client: Queryable, sql: string, rows: readonly object[], extraParams: unknown[] = []): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    await client.query(sql, [rowsJson(rows.slice(start, start + CHUNK_ROWS)), ...extraParams]);
  }
}

/** INSERT INTO table (columns) SELECT columns FROM json rows [suffix, e.g. ON CONFLICT ...]. */
export async function insertRows(
  client: Queryable,
  table: string,
  columns: readonly RecordColumn[],
  rows: readonly object[],
  suffix = '',
): Promise<void> {
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  await withRows(client, `INSERT INTO ${table} (${names}) SELECT ${names} FROM ${recordset(columns)} ${suffix}`, rows);
}
