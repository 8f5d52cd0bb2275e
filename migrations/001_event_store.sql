-- Up Migration

-- The event log (DESIGN.md §3). Rows are only ever inserted, by missive_append below.
--
-- Why readers can trust the global order: a sequence hands out positions in allocation order, but
-- transactions commit in any order, so "everything after position P" would skip an event that
-- commits late. Every append therefore allocates its positions and its transaction id together,
-- inside one globally serialised critical section (missive_allocate_positions), so transaction id
-- order == position order. A reader then reads only rows whose transaction_id is below the
-- oldest transaction still open (pg_snapshot_xmin of its snapshot): every such row is committed,
-- and every append still in flight has a larger transaction id, hence larger positions than every
-- row returned. Nothing can later appear below what a reader has seen, so the position alone is a
-- safe checkpoint.
CREATE SEQUENCE events_global_position_seq AS bigint MINVALUE 1 START WITH 1 CACHE 1;

CREATE TABLE events (
  global_position bigint PRIMARY KEY,
  transaction_id xid8 NOT NULL,
  stream_id text NOT NULL,
  stream_position bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_stream_position_unique UNIQUE (stream_id, stream_position)
);

ALTER SEQUENCE events_global_position_seq OWNED BY events.global_position;

CREATE INDEX events_type_idx ON events (type);
CREATE INDEX events_recorded_at_idx ON events (recorded_at);

-- The critical section: assigns the transaction id and takes p_count consecutive positions under
-- one global advisory lock (two-int key space, which never overlaps the bigint per-stream locks),
-- released before returning so the section stays a few microseconds long whatever the caller
-- does afterwards. The caller must not have written anything before (no transaction id yet).
CREATE FUNCTION missive_allocate_positions(p_count integer, OUT transaction_id xid8, OUT positions bigint[])
LANGUAGE plpgsql AS $$
BEGIN
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

-- One append, in one statement (one round trip). p_events is a JSON array of
-- {eventId, type, data, metadata}; p_expected is 'any' | 'no_stream' | 'stream_exists' | 'exact'
-- (then p_expected_revision is the stream's expected last position, -1 for no stream).
-- Returns one row per input event, in input order; data/metadata/type only for duplicates (the
-- caller already holds the new ones). Fails with SQLSTATE MS001 (wrong expected revision, DETAIL =
-- actual revision) or MS002 (event id stored in another stream, DETAIL = that stream, HINT = id).
CREATE FUNCTION missive_append(p_stream_id text, p_events jsonb, p_expected text, p_expected_revision bigint, p_notify boolean)
RETURNS TABLE (
  ordinal integer,
  duplicate boolean,
  type text,
  stream_position bigint,
  global_position bigint,
  recorded_at timestamptz,
  data jsonb,
  metadata jsonb,
  stream_head bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids uuid[];
  v_stored record;
  v_duplicates integer;
  v_head bigint;
  v_new integer;
  v_allocation record;
  v_first_new bigint;
BEGIN
  -- Per-stream lock first, before any write assigns a transaction id: two appends to one stream
  -- then take their positions (and ids) in the order they commit.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));

  v_ids := ARRAY(SELECT (e->>'eventId')::uuid FROM jsonb_array_elements(p_events) AS e);

  -- Which ids are stored already, classified in ONE statement (one snapshot): the insert below
  -- writes exactly the ids classified as new, so an id that another stream commits meanwhile makes
  -- the insert fail with a unique violation (23505), which the caller retries, never a wrong answer.
  SELECT coalesce(array_agg(s.event_id) FILTER (WHERE s.stream_id = p_stream_id), '{}') AS own_ids,
         (array_agg(s.event_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> p_stream_id))[1] AS foreign_id,
         (array_agg(s.stream_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> p_stream_id))[1] AS foreign_stream
    INTO v_stored
    FROM events s WHERE s.event_id = ANY (v_ids);
  IF v_stored.foreign_id IS NOT NULL THEN
    RAISE EXCEPTION 'event id % is already stored in stream %', v_stored.foreign_id, v_stored.foreign_stream
      USING ERRCODE = 'MS002', DETAIL = v_stored.foreign_stream, HINT = v_stored.foreign_id::text;
  END IF;
  v_duplicates := cardinality(v_stored.own_ids);

  SELECT coalesce(max(s.stream_position), -1) INTO v_head FROM events s WHERE s.stream_id = p_stream_id;
  v_new := cardinality(v_ids) - v_duplicates;

  -- Only an append with new events checks the revision: a pure retry answers with what is stored.
  IF v_new > 0 THEN
    IF NOT (p_expected = 'any'
            OR (p_expected = 'no_stream' AND v_head = -1)
            OR (p_expected = 'stream_exists' AND v_head >= 0)
            OR (p_expected = 'exact' AND v_head = p_expected_revision)) THEN
      RAISE EXCEPTION 'stream %: expected revision % %, actual %', p_stream_id, p_expected, p_expected_revision, v_head
        USING ERRCODE = 'MS001', DETAIL = v_head::text;
    END IF;

    SELECT * INTO v_allocation FROM missive_allocate_positions(v_new);
    v_first_new := v_allocation.positions[1];

    INSERT INTO events (global_position, transaction_id, stream_id, stream_position, event_id, type, data, metadata)
    SELECT v_allocation.positions[fresh.rank], v_allocation.transaction_id, p_stream_id, v_head + fresh.rank,
           fresh.event_id, fresh.type, fresh.data, fresh.metadata
      FROM (SELECT row_number() OVER (ORDER BY i.ord) AS rank, (i.e->>'eventId')::uuid AS event_id,
                   i.e->>'type' AS type, i.e->'data' AS data, i.e->'metadata' AS metadata
              FROM jsonb_array_elements(p_events) WITH ORDINALITY AS i(e, ord)
             WHERE NOT ((i.e->>'eventId')::uuid = ANY (v_stored.own_ids))) AS fresh;

    v_head := v_head + v_new;
    IF p_notify THEN
      PERFORM pg_notify('missive_events', v_allocation.positions[v_new]::text);
    END IF;
  END IF;

  RETURN QUERY
    SELECT i.ord::integer,
           (v_first_new IS NULL OR s.global_position < v_first_new),
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.type END,
           s.stream_position,
           s.global_position,
           s.recorded_at,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.data END,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.metadata END,
           v_head
      FROM unnest(v_ids) WITH ORDINALITY AS i(event_id, ord)
      JOIN events s ON s.event_id = i.event_id AND s.stream_id = p_stream_id
     ORDER BY i.ord;
END;
$$;

-- Down Migration
DROP FUNCTION IF EXISTS missive_append(text, jsonb, text, bigint, boolean);
DROP FUNCTION IF EXISTS missive_allocate_positions(integer);
DROP TABLE IF EXISTS events;
