import type { Kysely } from 'kysely';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import type { Database } from './schema.ts';

/**
 * Makes the workspaces and phone numbers tables say what the config says, in one transaction. Rows the
 * config no longer names are kept: their sessions and messages still refer to them.
 */
export async function syncWorkspaces(db: Kysely<Database>, config: BotrelicConfig): Promise<void> {
  const phoneNumbers = config.workspaces.flatMap((workspace) =>
    workspace.phoneNumbers.map((phoneNumber) => ({
      phone_number_id: phoneNumber.phoneNumberId,
      workspace_id: workspace.id,
      mode: phoneNumber.mode,
      display_phone_number: phoneNumber.displayPhoneNumber ?? null,
    })),
  );
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workspaces')
      .values(config.workspaces.map((workspace) => ({ id: workspace.id, name: workspace.name })))
      .onConflict((conflict) =>
        conflict.column('id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })),
      )
      .execute();
    // A number moved to another workspace in the config is moved here too.
    await trx
      .insertInto('phone_numbers')
      .values(phoneNumbers)
      .onConflict((conflict) =>
        conflict.column('phone_number_id').doUpdateSet((eb) => ({
          workspace_id: eb.ref('excluded.workspace_id'),
          mode: eb.ref('excluded.mode'),
          display_phone_number: eb.ref('excluded.display_phone_number'),
        })),
      )
      .execute();
  });
}
