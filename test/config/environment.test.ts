import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';

describe('the environment', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const env = readEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      BOTRELIC_DATA_DIR: './data',
      BOTRELIC_CONFIG: 'botrelic.yaml',
      WHATSAPP_GRAPH_URL: 'https://graph.facebook.com/v23.0',
      BOTRELIC_ACTOR_IDLE_TIMEOUT: 600_000,
      BOTRELIC_MAX_LIVE_ACTORS: 100_000,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.NATS_URL).toBeUndefined();
  });

  it('treats empty values as unset and parses numbers and durations', () => {
    const env = readEnvironment({ DATABASE_URL: '', PORT: '8080', BOTRELIC_ACTOR_IDLE_TIMEOUT: '90s' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PORT).toBe(8080);
    expect(env.BOTRELIC_ACTOR_IDLE_TIMEOUT).toBe(90_000);
  });

  it('names every bad variable and why', () => {
    expect(() =>
      readEnvironment({ PORT: 'eighty', LOG_LEVEL: 'loud', BOTRELIC_ACTOR_IDLE_TIMEOUT: '10 minutes' }),
    ).toThrow(/PORT: .*\n.*LOG_LEVEL: .*\n.*BOTRELIC_ACTOR_IDLE_TIMEOUT: .*duration/s);
  });
});
