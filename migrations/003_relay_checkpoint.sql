-- Up Migration

-- Where each relay (src/relay/relay.ts) is in the event store's global order: the last global position
-- whose event the bus acknowledged. Advanced with a compare-and-set after each acknowledged send, so a
-- relay killed mid-send republishes from here (at least once; consumers deduplicate by position).
CREATE TABLE relay_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE relay_checkpoints;
