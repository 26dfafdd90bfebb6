import { type BotrelicConfig, botrelicConfigSchema } from '../../src/config/workspace-config.ts';

export const ACME_NUMBER = '106540352242922';
export const GLOBEX_NUMBER = '109876543210987';

/** Two workspaces with short, distinct timeouts, so tests can tell which setting fired. */
export function testConfig(overrides: { onHandoffTimeout?: 'keep_waiting' | 'close' } = {}): BotrelicConfig {
  return botrelicConfigSchema.parse({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme Store',
        phoneNumbers: [{ phoneNumberId: ACME_NUMBER, mode: 'sandbox' }],
        fallback: {
          keywords: ['human'],
          maxLowConfidenceTurns: 2,
          message: 'Let me connect you with our team.',
        },
        humanTeams: [
          { id: 'support', agents: [{ id: 'alice', name: 'Alice', token: 'alice-token-0123456789' }] },
        ],
        sessions: {
          inactivityTimeout: '1h',
          aiTimeout: '30s',
          handoffTimeout: '15m',
          humanInactivityTimeout: '30m',
          onHandoffTimeout: overrides.onHandoffTimeout ?? 'keep_waiting',
        },
      },
      {
        id: 'globex',
        name: 'Globex',
        phoneNumbers: [{ phoneNumberId: GLOBEX_NUMBER, mode: 'sandbox' }],
        humanTeams: [{ id: 'care', agents: [{ id: 'bob', name: 'Bob', token: 'bob-token-0123456789ab' }] }],
      },
    ],
  });
}
