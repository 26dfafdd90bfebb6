import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { createAgentAuthenticator } from '../../src/gateway/agent-auth.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('syncWorkspaces', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.close();
  });

  const phoneNumbers = () =>
    database.db.selectFrom('phone_numbers').selectAll().orderBy('phone_number_id').execute();

  it('inserts the configured workspaces and numbers, then follows renames and moved numbers', async () => {
    await syncWorkspaces(
      database.db,
      botrelicConfigSchema.parse({
        workspaces: [
          {
            id: 'acme',
            name: 'Acme',
            phoneNumbers: [
              { phoneNumberId: '100001', mode: 'sandbox', displayPhoneNumber: '+31 6 0000 0001' },
              { phoneNumberId: '100002', mode: 'sandbox' },
            ],
          },
          { id: 'globex', name: 'Globex', phoneNumbers: [{ phoneNumberId: '200001', mode: 'sandbox' }] },
        ],
      }),
    );
    expect(await phoneNumbers()).toEqual([
      {
        phone_number_id: '100001',
        workspace_id: 'acme',
        mode: 'sandbox',
        display_phone_number: '+31 6 0000 0001',
      },
      { phone_number_id: '100002', workspace_id: 'acme', mode: 'sandbox', display_phone_number: null },
      { phone_number_id: '200001', workspace_id: 'globex', mode: 'sandbox', display_phone_number: null },
    ]);

    await syncWorkspaces(
      database.db,
      botrelicConfigSchema.parse({
        workspaces: [
          { id: 'acme', name: 'Acme Corp', phoneNumbers: [{ phoneNumberId: '100001', mode: 'sandbox' }] },
          {
            id: 'globex',
            name: 'Globex',
            phoneNumbers: [
              { phoneNumberId: '200001', mode: 'production', accessToken: 'token-of-the-meta-app' },
              { phoneNumberId: '100002', mode: 'sandbox' },
            ],
          },
        ],
      }),
    );
    expect(await database.db.selectFrom('workspaces').select(['id', 'name']).orderBy('id').execute()).toEqual(
      [
        { id: 'acme', name: 'Acme Corp' },
        { id: 'globex', name: 'Globex' },
      ],
    );
    expect(await phoneNumbers()).toEqual([
      { phone_number_id: '100001', workspace_id: 'acme', mode: 'sandbox', display_phone_number: null },
      { phone_number_id: '100002', workspace_id: 'globex', mode: 'sandbox', display_phone_number: null },
      { phone_number_id: '200001', workspace_id: 'globex', mode: 'production', display_phone_number: null },
    ]);
  });

  describe('human agents', () => {
    const ALICE = 'alice-token-0123456789';
    const CAROL = 'carol-token-0123456789';
    const agentsConfig = (agents: { id: string; name: string; token: string }[]) =>
      botrelicConfigSchema.parse({
        workspaces: [
          {
            id: 'acme',
            name: 'Acme',
            phoneNumbers: [{ phoneNumberId: '100001', mode: 'sandbox' }],
            humanTeams: [{ id: 'support', agents }],
          },
        ],
      });

    /** Who a bearer token is, as the agent API's authenticator says it: the agent's id, or the status. */
    async function whoIs(token: string): Promise<string | number> {
      const app = Fastify();
      app.decorateRequest('agent', null);
      app.addHook('onRequest', createAgentAuthenticator(database.db));
      app.get('/whoami', async (request) => ({ agentId: request.agent!.agentId }));
      try {
        const response = await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${token}` } });
        return response.statusCode === 200 ? response.json().agentId : response.statusCode;
      } finally {
        await app.close();
      }
    }

    it('stores only the hash of a token, and follows an agent renamed under the same token', async () => {
      await syncWorkspaces(
        database.db,
        agentsConfig([
          { id: 'alice', name: 'Alice', token: ALICE },
          { id: 'carol', name: 'Carol', token: CAROL },
        ]),
      );
      const stored = await database.db.selectFrom('human_agents').select('token_hash').execute();
      expect(stored).toHaveLength(2);
      for (const { token_hash } of stored) {
        expect(token_hash).toMatch(/^[0-9a-f]{64}$/);
        expect([ALICE, CAROL]).not.toContain(token_hash);
      }
      expect(await whoIs(ALICE)).toBe('alice');

      // Alice's id changes, her token stays; Carol leaves and her token goes to a newcomer.
      await syncWorkspaces(
        database.db,
        agentsConfig([
          { id: 'alice-smith', name: 'Alice Smith', token: ALICE },
          { id: 'erin', name: 'Erin', token: CAROL },
        ]),
      );
      expect(await whoIs(ALICE)).toBe('alice-smith');
      expect(await whoIs(CAROL)).toBe('erin');
      const rows = await database.db
        .selectFrom('human_agents')
        .select(['agent_id', 'active'])
        .select((eb) => eb('token_hash', 'is not', null).as('has_token'))
        .orderBy('agent_id')
        .execute();
      expect(rows).toEqual([
        { agent_id: 'alice', active: false, has_token: false },
        { agent_id: 'alice-smith', active: true, has_token: true },
        { agent_id: 'carol', active: false, has_token: false },
        { agent_id: 'erin', active: true, has_token: true },
      ]);
    });

    it("refuses a removed agent's token with 401", async () => {
      await syncWorkspaces(database.db, agentsConfig([{ id: 'alice-smith', name: 'Alice', token: ALICE }]));
      expect(await whoIs(CAROL)).toBe(401);
      expect(await whoIs(ALICE)).toBe('alice-smith');
    });
  });
});
