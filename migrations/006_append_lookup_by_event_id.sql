-- Up Migration

-- The appends answer with their stored rows by joining the input event ids to `events` on
-- (event_id, stream_id). In missive_append_batch, PostgreSQL's plan for that join (a generic plan,
-- with no idea how many ids come in) read every event of the stream through the stream index, or
-- hash-joined a sequential scan of the whole table: a send's cost grew with the length of its
-- conversation and the size of the log (bench: 24.6 ms of a 31 ms batch with only 24,000 events).
-- Now each id is looked up alone through the event_id unique index, and the stream is checked on
-- the row found: the cost per event is constant (test/store/appendCost.int.spec.ts counts the rows
-- read). The body is otherwise that of 005, unchanged (a migration never edits an applied one, so
-- the whole function is restated). missive_append (001) is left as it is: with its stream id a
-- parameter, its plan already probes by id, and the same test guards that it stays so.

CREATE OR REPLACE FUNCTION missive_append_batch(p_requests jsonb, p_notify boolean)
RETURNS TABLE (
  req integer,
  ordinal integer,
  duplicate boolean,
  type text,
  stream_position bigint,
  global_position bigint,
  recorded_at timestamptz,
  data jsonb,
  metadata jsonb,
  stream_head bigint,
  error_code text,
  error_detail text,
  error_hint text
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_count integer := jsonb_array_length(p_requests);
  v_r record;
  v_ids uuid[];
  v_stored record;
  v_head bigint;
  v_new integer;
  v_heads bigint[] := array_fill(NULL::bigint, ARRAY[jsonb_array_length(p_requests)]);
  v_news integer[] := array_fill(0, ARRAY[jsonb_array_length(p_requests)]);
  v_ok boolean[] := array_fill(false, ARRAY[jsonb_array_length(p_requests)]);
  v_err_code text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_err_detail text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_err_hint text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_skip uuid[] := '{}';
  v_total integer := 0;
  v_allocation record;
  v_first_new bigint;
BEGIN
  FOR v_r IN
    SELECT q.ord::integer AS i, q.r->>'s' AS stream_id, q.r->'e' AS events, q.r->>'x' AS expected,
           (q.r->>'r')::bigint AS revision
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
     ORDER BY hashtextextended(q.r->>'s', 0), q.ord
  LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(v_r.stream_id, 0));

    v_ids := ARRAY(SELECT (e->>'eventId')::uuid FROM jsonb_array_elements(v_r.events) AS e);

    SELECT coalesce(array_agg(s.event_id) FILTER (WHERE s.stream_id = v_r.stream_id), '{}') AS own_ids,
           (array_agg(s.event_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> v_r.stream_id))[1] AS foreign_id,
           (array_agg(s.stream_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> v_r.stream_id))[1] AS foreign_stream
      INTO v_stored
      FROM events s WHERE s.event_id = ANY (v_ids);
    IF v_stored.foreign_id IS NOT NULL THEN
      v_err_code[v_r.i] := 'MS002';
      v_err_detail[v_r.i] := v_stored.foreign_stream;
      v_err_hint[v_r.i] := v_stored.foreign_id::text;
      CONTINUE;
    END IF;

    SELECT coalesce(max(s.stream_position), -1) INTO v_head FROM events s WHERE s.stream_id = v_r.stream_id;
    v_new := cardinality(v_ids) - cardinality(v_stored.own_ids);

    IF v_new > 0 AND NOT (v_r.expected = 'any'
            OR (v_r.expected = 'no_stream' AND v_head = -1)
            OR (v_r.expected = 'stream_exists' AND v_head >= 0)
            OR (v_r.expected = 'exact' AND v_head = v_r.revision)) THEN
      v_err_code[v_r.i] := 'MS001';
      v_err_detail[v_r.i] := v_head::text;
      CONTINUE;
    END IF;

    v_ok[v_r.i] := true;
    v_heads[v_r.i] := v_head;
    v_news[v_r.i] := v_new;
    v_total := v_total + v_new;
    v_skip := v_skip || v_stored.own_ids;
  END LOOP;

  IF v_total > 0 THEN
    SELECT * INTO v_allocation FROM missive_allocate_positions(v_total);
    v_first_new := v_allocation.positions[1];

    INSERT INTO events (global_position, transaction_id, stream_id, stream_position, event_id, type, data, metadata)
    SELECT v_allocation.positions[f.global_rank], v_allocation.transaction_id, f.stream_id, f.head + f.stream_rank,
           f.event_id, f.type, f.data, f.metadata
      FROM (SELECT fresh.*, row_number() OVER (ORDER BY fresh.req, fresh.ord) AS global_rank,
                   row_number() OVER (PARTITION BY fresh.req ORDER BY fresh.ord) AS stream_rank
              FROM (SELECT q.ord AS req, i.ord AS ord, q.r->>'s' AS stream_id, v_heads[q.ord] AS head,
                           (i.e->>'eventId')::uuid AS event_id, i.e->>'type' AS type, i.e->'data' AS data, i.e->'metadata' AS metadata
                      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
                      CROSS JOIN LATERAL jsonb_array_elements(q.r->'e') WITH ORDINALITY AS i(e, ord)
                     WHERE v_ok[q.ord] AND NOT ((i.e->>'eventId')::uuid = ANY (v_skip))) AS fresh) AS f;

    IF p_notify THEN
      PERFORM pg_notify('missive_events', v_allocation.positions[v_total]::text);
    END IF;
  END IF;

  RETURN QUERY
    SELECT q.ord::integer, i.ord::integer,
           (v_first_new IS NULL OR s.global_position < v_first_new),
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.type END,
           s.stream_position,
           s.global_position,
           s.recorded_at,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.data END,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.metadata END,
           v_heads[q.ord] + v_news[q.ord],
           NULL::text, NULL::text, NULL::text
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
      CROSS JOIN LATERAL jsonb_array_elements(q.r->'e') WITH ORDINALITY AS i(e, ord)
      -- One unique-index probe per event id (OFFSET 0 keeps the stream condition out of the probe).
      CROSS JOIN LATERAL (SELECT * FROM events ev WHERE ev.event_id = (i.e->>'eventId')::uuid OFFSET 0) AS s
     WHERE v_ok[q.ord] AND s.stream_id = q.r->>'s'
    UNION ALL
    SELECT q.ord::integer, NULL::integer, NULL::boolean, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz,
           NULL::jsonb, NULL::jsonb, NULL::bigint, v_err_code[q.ord], v_err_detail[q.ord], v_err_hint[q.ord]
      FROM generate_series(1, v_count) AS q(ord)
     WHERE v_err_code[q.ord] IS NOT NULL
    ORDER BY 1, 2;
END;
$$;

-- Down Migration
-- The previous body (005_append_batch.sql).
CREATE OR REPLACE FUNCTION missive_append_batch(p_requests jsonb, p_notify boolean)
RETURNS TABLE (
  req integer,
  ordinal integer,
  duplicate boolean,
  type text,
  stream_position bigint,
  global_position bigint,
  recorded_at timestamptz,
  data jsonb,
  metadata jsonb,
  stream_head bigint,
  error_code text,
  error_detail text,
  error_hint text
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_count integer := jsonb_array_length(p_requests);
  v_r record;
  v_ids uuid[];
  v_stored record;
  v_head bigint;
  v_new integer;
  v_heads bigint[] := array_fill(NULL::bigint, ARRAY[jsonb_array_length(p_requests)]);
  v_news integer[] := array_fill(0, ARRAY[jsonb_array_length(p_requests)]);
  v_ok boolean[] := array_fill(false, ARRAY[jsonb_array_length(p_requests)]);
  v_err_code text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_err_detail text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_err_hint text[] := array_fill(NULL::text, ARRAY[jsonb_array_length(p_requests)]);
  v_skip uuid[] := '{}';
  v_total integer := 0;
  v_allocation record;
  v_first_new bigint;
BEGIN
  FOR v_r IN
    SELECT q.ord::integer AS i, q.r->>'s' AS stream_id, q.r->'e' AS events, q.r->>'x' AS expected,
           (q.r->>'r')::bigint AS revision
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
     ORDER BY hashtextextended(q.r->>'s', 0), q.ord
  LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(v_r.stream_id, 0));

    v_ids := ARRAY(SELECT (e->>'eventId')::uuid FROM jsonb_array_elements(v_r.events) AS e);

    SELECT coalesce(array_agg(s.event_id) FILTER (WHERE s.stream_id = v_r.stream_id), '{}') AS own_ids,
           (array_agg(s.event_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> v_r.stream_id))[1] AS foreign_id,
           (array_agg(s.stream_id ORDER BY s.event_id) FILTER (WHERE s.stream_id <> v_r.stream_id))[1] AS foreign_stream
      INTO v_stored
      FROM events s WHERE s.event_id = ANY (v_ids);
    IF v_stored.foreign_id IS NOT NULL THEN
      v_err_code[v_r.i] := 'MS002';
      v_err_detail[v_r.i] := v_stored.foreign_stream;
      v_err_hint[v_r.i] := v_stored.foreign_id::text;
      CONTINUE;
    END IF;

    SELECT coalesce(max(s.stream_position), -1) INTO v_head FROM events s WHERE s.stream_id = v_r.stream_id;
    v_new := cardinality(v_ids) - cardinality(v_stored.own_ids);

    IF v_new > 0 AND NOT (v_r.expected = 'any'
            OR (v_r.expected = 'no_stream' AND v_head = -1)
            OR (v_r.expected = 'stream_exists' AND v_head >= 0)
            OR (v_r.expected = 'exact' AND v_head = v_r.revision)) THEN
      v_err_code[v_r.i] := 'MS001';
      v_err_detail[v_r.i] := v_head::text;
      CONTINUE;
    END IF;

    v_ok[v_r.i] := true;
    v_heads[v_r.i] := v_head;
    v_news[v_r.i] := v_new;
    v_total := v_total + v_new;
    v_skip := v_skip || v_stored.own_ids;
  END LOOP;

  IF v_total > 0 THEN
    SELECT * INTO v_allocation FROM missive_allocate_positions(v_total);
    v_first_new := v_allocation.positions[1];

    INSERT INTO events (global_position, transaction_id, stream_id, stream_position, event_id, type, data, metadata)
    SELECT v_allocation.positions[f.global_rank], v_allocation.transaction_id, f.stream_id, f.head + f.stream_rank,
           f.event_id, f.type, f.data, f.metadata
      FROM (SELECT fresh.*, row_number() OVER (ORDER BY fresh.req, fresh.ord) AS global_rank,
                   row_number() OVER (PARTITION BY fresh.req ORDER BY fresh.ord) AS stream_rank
              FROM (SELECT q.ord AS req, i.ord AS ord, q.r->>'s' AS stream_id, v_heads[q.ord] AS head,
                           (i.e->>'eventId')::uuid AS event_id, i.e->>'type' AS type, i.e->'data' AS data, i.e->'metadata' AS metadata
                      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
                      CROSS JOIN LATERAL jsonb_array_elements(q.r->'e') WITH ORDINALITY AS i(e, ord)
                     WHERE v_ok[q.ord] AND NOT ((i.e->>'eventId')::uuid = ANY (v_skip))) AS fresh) AS f;

    IF p_notify THEN
      PERFORM pg_notify('missive_events', v_allocation.positions[v_total]::text);
    END IF;
  END IF;

  RETURN QUERY
    SELECT q.ord::integer, i.ord::integer,
           (v_first_new IS NULL OR s.global_position < v_first_new),
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.type END,
           s.stream_position,
           s.global_position,
           s.recorded_at,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.data END,
           CASE WHEN v_first_new IS NULL OR s.global_position < v_first_new THEN s.metadata END,
           v_heads[q.ord] + v_news[q.ord],
           NULL::text, NULL::text, NULL::text
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS q(r, ord)
      CROSS JOIN LATERAL jsonb_array_elements(q.r->'e') WITH ORDINALITY AS i(e, ord)
      JOIN events s ON s.event_id = (i.e->>'eventId')::uuid AND s.stream_id = q.r->>'s'
     WHERE v_ok[q.ord]
    UNION ALL
    SELECT q.ord::integer, NULL::integer, NULL::boolean, NULL::text, NULL::bigint, NULL::bigint, NULL::timestamptz,
           NULL::jsonb, NULL::jsonb, NULL::bigint, v_err_code[q.ord], v_err_detail[q.ord], v_err_hint[q.ord]
      FROM generate_series(1, v_count) AS q(ord)
     WHERE v_err_code[q.ord] IS NOT NULL
    ORDER BY 1, 2;
END;
$$;
