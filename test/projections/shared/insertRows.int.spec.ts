// insertRows takes three paths (COPY, unnest, JSON recordset): each must store exactly what it was
// given, including the characters COPY's text format treats specially and values that look like its null.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows, type RecordColumn } from '../../../src/projections/shared/sql.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`CREATE TABLE awkward (id integer PRIMARY KEY, label text, big bigint, day date, data jsonb, tags text[])`);
});
afterAll(async () => {
  await db.drop();
});

const NASTY = ['tab\there', 'new\nline', 'carriage\rreturn', 'back\\slash', '\\N', 'N', '', 'quote "double" \'single\'', 'ünïcødé ✓ 😀', '\\\\t'];
const COLUMNS: readonly RecordColumn[] = [['id', 'integer'], ['label', 'text'], ['big', 'bigint'], ['day', 'date'], ['data', 'jsonb']];

function rowsFrom(offset: number) {
  return NASTY.map((label, i) => ({
    id: offset + i,
    label,
    big: 2n ** 62n + BigInt(i),
    day: i % 2 === 0 ? '2026-11-01' : null,
    data: i % 3 === 0 ? null : { text: label, nested: { list: [label, i], big: 5n } },
  }));
}

async function readBack(from: number, to: number) {
  const { rows } = await db.pool.query(`SELECT id, label, big::text, to_char(day, 'YYYY-MM-DD') AS day, data, tags FROM awkward WHERE id >= $1 AND id < $2 ORDER BY id`, [from, to]);
  return rows;
}

const expected = (offset: number) =>
  rowsFrom(offset).map((r) => ({
    id: r.id,
    label: r.label,
    big: r.big.toString(),
    day: r.day,
    data: r.data === null ? null : { text: r.label, nested: { list: [r.label, r.id - offset], big: '5' } },
    tags: null,
  }));

describe('insertRows', () => {
  it('stores every value exactly through COPY (plain insert)', async () => {
    const client = await db.pool.connect();
    try {
      await insertRows(client, 'awkward', COLUMNS, rowsFrom(0));
    } finally {
      client.release();
    }
    expect(await readBack(0, 100)).toEqual(expected(0));
  });

  it('stores every value exactly through unnest (upsert)', async () => {
    const client = await db.pool.connect();
    try {
      await insertRows(client, 'awkward', COLUMNS, rowsFrom(100), 'ON CONFLICT (id) DO NOTHING');
    } finally {
      client.release();
    }
    expect(await readBack(100, 200)).toEqual(expected(100));
  });

  it('keeps array columns intact through the JSON recordset', async () => {
    const client = await db.pool.connect();
    try {
      await insertRows(client, 'awkward', [['id', 'integer'], ['tags', 'text[]']], [{ id: 300, tags: ['a\tb', 'c,d', '{e}'] }]);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query('SELECT tags FROM awkward WHERE id = 300');
    expect(rows[0].tags).toEqual(['a\tb', 'c,d', '{e}']);
  });

  it('writes nothing and sends nothing for no rows', async () => {
    const client = await db.pool.connect();
    try {
      await insertRows(client, 'no_such_table', COLUMNS, []);
    } finally {
      client.release();
    }
  });

  it('rolls back a COPY that fails half-way with its transaction', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const clash = [...rowsFrom(400), { id: 400, label: 'duplicate key', big: 1n, day: null, data: null }];
      await expect(insertRows(client, 'awkward', COLUMNS, clash)).rejects.toMatchObject({ code: '23505' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await readBack(400, 500)).toEqual([]);
  });
});
