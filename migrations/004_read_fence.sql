-- Up Migration

-- The read fence, narrowed to the transactions that can append here.
--
-- 001 fenced reads of the global order at pg_snapshot_xmin: below the oldest transaction open
-- anywhere in the PostgreSQL cluster. Transaction ids are cluster-wide, so a transaction in another
-- database, or a projection batch here (which writes read models, never events), held back events
-- that had already committed, for as long as it stayed open.
--
-- The fence only has to stay below transactions that may still commit events into this table.
-- missive_read_fence() returns the oldest open transaction of the reader's snapshot, skipping only
-- those positively identified (pg_stat_activity, by transaction id) as belonging to a backend that
-- is connected to another database, or that marked itself as unable to append by setting
-- application_name to 'missive:no-appends' (SET LOCAL, before its first write:
-- src/projections/applyBatch.ts). Anything not identified — a prepared transaction, a backend
-- whose details this role may not see, a transaction that ended after the snapshot — still holds
-- the fence, so the narrowing can only ever be conservative. Appending under that name is refused
-- (missive_allocate_positions below), so a marked transaction truly cannot hold an event.
--
-- Identification compares the 32-bit backend_xid with the low 32 bits of the snapshot's xid8:
-- every open transaction is within 2^31 of the snapshot, so the match is unique.
CREATE FUNCTION missive_read_fence() RETURNS xid8
LANGUAGE sql STABLE AS $$
  WITH snapshot AS (SELECT pg_current_snapshot() AS s),
  open_transactions AS (SELECT x FROM snapshot, pg_snapshot_xip(s) AS x),
  non_appenders AS (
    SELECT a.backend_xid::text::bigint AS xid32
    FROM pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL
      AND (a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())
           OR a.application_name = 'missive:no-appends')
  )
  SELECT CASE
    -- No open transaction listed (or a snapshot that lists none, as on a standby): the classic fence.
    WHEN NOT EXISTS (SELECT 1 FROM open_transactions) THEN (SELECT pg_snapshot_xmin(s) FROM snapshot)
    ELSE coalesce(
      (SELECT min(x) FROM open_transactions
        WHERE (x::text::bigint % 4294967296) NOT IN (SELECT xid32 FROM non_appenders)),
      (SELECT pg_snapshot_xmax(s) FROM snapshot))
  END
$$;

-- The append's critical section, unchanged but for refusing a transaction that declared it never
-- appends (the fence above relies on that declaration).
CREATE OR REPLACE FUNCTION missive_allocate_positions(p_count integer, OUT transaction_id xid8, OUT positions bigint[])
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('application_name') = 'missive:no-appends' THEN
    RAISE EXCEPTION 'a transaction marked missive:no-appends cannot append events' USING ERRCODE = 'MS003';
  END IF;
  PERFORM pg_advisory_lock(1835627379, 1); -- 'miss', 1: the global position lock
  BEGIN
    transaction_id := pg_current_xact_id();
    positions := ARRAY(SELECT nextval('events_global_position_seq') FROM generate_series(1, p_count));
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(1835627379, 1);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(1835627379, 1);
END;
$$;

-- Down Migration
DROP FUNCTION IF EXISTS missive_read_fence();
CREATE OR REPLACE FUNCTION missive_allocate_positions(p_count integer, OUT transaction_id xid8, OUT positions bigint[])
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_lock(1835627379, 1);
  BEGIN
    transaction_id := pg_current_xact_id();
    positions := ARRAY(SELECT nextval('events_global_position_seq') FROM generate_series(1, p_count));
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(1835627379, 1);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(1835627379, 1);
END;
$$;
