import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createPgliteTestDatabase, type TestDatabase } from '../support/database.ts';
import { ScriptedAgent } from '../support/scripted-agent.ts';
import { testConfig } from '../support/test-config.ts';

const PRODUCTION_NUMBER = '109999999999991';

function configWithProductionNumber() {
  const config = testConfig();
  config.workspaces[1]!.phoneNumbers.push({
    phoneNumberId: PRODUCTION_NUMBER,
    mode: 'production',
    accessToken: 'production-access-token',
  });
  return config;
}

describe('WHATSAPP_APP_SECRET at start', () => {
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await database?.close();
  });

  async function start(config = configWithProductionNumber(), env: Record<string, string> = {}) {
    database = await createPgliteTestDatabase();
    const transport = createInProcessTransport();
    const engine = await createEngine({
      config,
      env: readEnvironment(env),
      logger: createLogger({ level: 'silent' }),
      replyAgent: new ScriptedAgent(),
      database: { db: database.db, dialect: database.kind, close: database.close },
      transport,
    });
    await engine.stop();
    await transport.close();
  }

  it('is required when a production number is configured, and the refusal names it and the number', async () => {
    await expect(start()).rejects.toThrow(
      new RegExp(
        `^invalid environment:\nWHATSAPP_APP_SECRET is required: the production phone number ${PRODUCTION_NUMBER} \\(workspace globex\\)`,
      ),
    );
  });

  it('lets the engine start once set', async () => {
    await expect(
      start(configWithProductionNumber(), { WHATSAPP_APP_SECRET: 'app-secret' }),
    ).resolves.toBeUndefined();
  });

  it('is not required while every number is a sandbox number', async () => {
    await expect(start(testConfig())).resolves.toBeUndefined();
  });
});
