-- Up Migration

-- One row per projection (src/projections/README.md): the last global position it applied, the
-- version of the code that built it and its epoch (bumped on every rebuild; sync cursors carry it).
-- The projector advances `position` with a compare-and-set in the same transaction as its rows.
-- The projections' own tables live in their own schemas (proj_<name>), created by the code
-- (ensureProjectionSchemas), because a rebuild creates the same tables in a shadow schema.
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  version integer NOT NULL,
  epoch integer NOT NULL DEFAULT 1,
  position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Set by a running projector now and then, so `status` from another process can tell it runs.
  heartbeat_at timestamptz,
  status text NOT NULL DEFAULT 'live'
);

-- Down Migration
DROP TABLE projection_checkpoints;
