// Configuration picks adapters by URL and roles need some of them; every problem is reported at once.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('adapters and roles in the configuration', () => {
  it('runs every role by default without Kafka (the relay then has nothing to do)', () => {
    const config = loadConfig({});
    expect(config.roles).toEqual(['api', 'gateway', 'projector', 'relay']);
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.kafka).toEqual({ topic: 'missive.events', partitions: 12, groupId: 'missive-projectors' });
  });

  it('reads the brokers and the Kafka settings', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'k1:9092, k2:9093', MISSIVE_ROLES: 'relay', MISSIVE_KAFKA_PARTITIONS: '24', MISSIVE_KAFKA_GROUP: 'g' });
    expect(config.kafkaBrokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.roles).toEqual(['relay']);
    expect(config.kafka).toEqual({ topic: 'missive.events', partitions: 24, groupId: 'g' });
  });

  it('refuses a relay asked for by name without KAFKA_BROKERS', () => {
    expect(problemsOf({ MISSIVE_ROLES: 'projector,relay' })).toBe(
      'Invalid configuration: the relay role publishes to Kafka: set KAFKA_BROKERS (host:port[,host:port...]) or leave relay out of --role',
    );
  });

  it('lists every problem in one message', () => {
    const message = problemsOf({ MISSIVE_ROLES: 'api,mailer', EVENTSTORE_URL: 'http://esdb:2113', KAFKA_BROKERS: 'no-port', REDIS_URL: 'memcached://x:1' });
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      '  KAFKA_BROKERS: expected host:port[,host:port...]',
      '  EVENTSTORE_URL: expected an esdb://, esdb+discover:// or kurrentdb:// connection string',
      '  DATABASE_URL is required when EVENTSTORE_URL is set: the read models and checkpoints live in PostgreSQL',
      '  REDIS_URL: expected a redis:// or rediss:// URL',
      '  MISSIVE_ROLES (--role): Unknown role(s): mailer; expected some of api,gateway,projector,relay',
    ]);
  });

  it('accepts EventStoreDB with PostgreSQL for the read models', () => {
    const config = loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/m', MISSIVE_JWT_SECRET: 'x'.repeat(32) });
    expect(config.embedded).toBe(false);
    expect(problemsOf({ DATABASE_URL: 'mysql://u:p@h/db' })).toBe('Invalid configuration: DATABASE_URL: expected a postgres:// or postgresql:// URL');
  });
});
