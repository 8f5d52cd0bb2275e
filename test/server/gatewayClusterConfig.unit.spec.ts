// The configuration of gateways on several nodes: node ids (given or generated, never repeated across
// processes), the presence ttl and the Redis key prefix.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('gateway cluster configuration', () => {
  it('takes MISSIVE_NODE_ID, or generates one that differs on every start', () => {
    expect(loadConfig({ MISSIVE_NODE_ID: 'edge-1' }).nodeId).toBe('edge-1');
    const generated = [loadConfig({}).nodeId, loadConfig({}).nodeId];
    expect(generated[0]).not.toBe(generated[1]);
    for (const id of generated) expect(id).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
  });

  it('defaults the presence ttl to 15 s and the key prefix to missive:gw:, and refuses bad values', () => {
    expect(loadConfig({})).toMatchObject({ presenceTtlMs: 15_000, redisKeyPrefix: 'missive:gw:' });
    expect(loadConfig({ MISSIVE_PRESENCE_TTL_MS: '2000', MISSIVE_REDIS_KEY_PREFIX: 'tenant7:' })).toMatchObject({ presenceTtlMs: 2_000, redisKeyPrefix: 'tenant7:' });
    expect(() => loadConfig({ MISSIVE_PRESENCE_TTL_MS: '100' })).toThrow(ConfigError);
    expect(() => loadConfig({ MISSIVE_NODE_ID: 'has space' })).toThrow(/MISSIVE_NODE_ID/);
  });
});
