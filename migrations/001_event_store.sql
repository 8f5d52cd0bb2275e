-- Up Migration
CREATE TABLE IF NOT EXISTS smoke(x int);
-- Down Migration
DROP TABLE smoke;
