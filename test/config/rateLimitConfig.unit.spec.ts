// The per-user request budget is configuration: a positive whole number of requests per minute.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('MISSIVE_RATE_LIMIT_PER_MINUTE', () => {
  it('defaults to 1,200 requests per minute and reads a configured value', () => {
    expect(loadConfig({}).rateLimitPerMinute).toBe(1_200);
    expect(loadConfig({ MISSIVE_RATE_LIMIT_PER_MINUTE: '60' }).rateLimitPerMinute).toBe(60);
  });

  it.each(['0', '-5', '1.5', 'lots'])('refuses %s at start-up', (value) => {
    expect(() => loadConfig({ MISSIVE_RATE_LIMIT_PER_MINUTE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ MISSIVE_RATE_LIMIT_PER_MINUTE: value })).toThrow(/MISSIVE_RATE_LIMIT_PER_MINUTE/);
  });
});
