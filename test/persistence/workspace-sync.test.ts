import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
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
});
