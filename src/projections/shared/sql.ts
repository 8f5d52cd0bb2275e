// SQL plumbing shared by the projections: schema-qualified names (a projection's schema is a
// parameter, so rebuilds can target a shadow schema) and set-wise writes: one round trip per statement
// whatever the row count. Plain inserts stream the rows with COPY (PostgreSQL's fastest load path:
// about twice as fast as INSERT ... SELECT on its side); upserts send one typed array per column
// (unnest); other set-wise statements send the rows as one JSON parameter (json_to_recordset).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

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

/**
 * One value as PostgreSQL array-element text, as json_to_recordset would read it: jsonb columns get
 * their JSON text, bigints their digits, nested objects their JSON (bigints inside as strings).
 */
function columnValue(value: unknown, isJson: boolean): string | null {
  if (value === null || value === undefined) return null;
  if (isJson || typeof value === 'object') return jsonText(value);
  return String(value);
}

/** JSON.stringify without the replacer's per-key call; only values holding a bigint take the slow path. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError) return JSON.stringify(value, jsonReplacer);
    throw error;
  }
}

/** The rows as one array per column, for `unnest($1::type[], $2::type[], ...)`. */
function columnArrays(columns: readonly RecordColumn[], rows: readonly object[]): Array<Array<string | null>> {
  return columns.map(([name, type]) => {
    const isJson = type === 'jsonb' || type === 'json';
    const values = new Array<string | null>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = columnValue((rows[i] as Record<string, unknown>)[name], isJson);
    return values;
  });
}

const INSERT_CHUNK_ROWS = 10_000;

/** A value in COPY's text format: \\N for null, backslash escapes for the four characters it treats specially. */
function copyField(value: unknown, isJson: boolean): string {
  const text = columnValue(value, isJson);
  if (text === null) return '\\N';
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** COPY table (columns) FROM STDIN, in chunks so one huge batch does not sit in memory as one string. */
async function copyRows(client: pg.ClientBase, table: string, columns: readonly RecordColumn[], rows: readonly object[]): Promise<void> {
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  const jsonColumn = columns.map(([, type]) => type === 'jsonb' || type === 'json');
  function* lines(): Generator<string> {
    for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
      let chunk = '';
      for (let i = start; i < Math.min(rows.length, start + INSERT_CHUNK_ROWS); i++) {
        const row = rows[i] as Record<string, unknown>;
        for (let c = 0; c < columns.length; c++) {
          if (c > 0) chunk += '\t';
          chunk += copyField(row[columns[c]![0]], jsonColumn[c]!);
        }
        chunk += '\n';
      }
      yield chunk;
    }
  }
  await pipeline(Readable.from(lines()), client.query(copyFrom(`COPY ${table} (${names}) FROM STDIN`)));
}

/**
 * Inserts the rows into table (columns) [suffix, e.g. ON CONFLICT ...]. Plain inserts go through COPY;
 * with a suffix the rows travel as one typed array per column expanded by unnest (PostgreSQL parses
 * flat arrays much faster than a JSON recordset); tables with array columns keep the JSON recordset.
 */
export async function insertRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly RecordColumn[],
  rows: readonly object[],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  // unnest would flatten an array column's values: such tables keep the JSON recordset.
  if (columns.some(([, type]) => type.endsWith(']'))) {
    await withRows(client, `INSERT INTO ${table} (${names}) SELECT ${names} FROM ${recordset(columns)} ${suffix}`, rows);
    return;
  }
  if (suffix === '') {
    await copyRows(client, table, columns, rows);
    return;
  }
  const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  const sql = `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) AS x(${names}) ${suffix}`;
  for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
    await client.query(sql, columnArrays(columns, rows.slice(start, start + INSERT_CHUNK_ROWS)));
  }
}
