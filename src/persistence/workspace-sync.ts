import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import type { Database } from './schema.ts';

/** Agent tokens are stored and looked up by this hash only. */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Makes the workspaces, phone numbers and human agents tables say what the config says, in one
 * transaction. Workspaces and numbers the config no longer names are kept (their sessions and messages
 * still refer to them); agents it no longer names are deactivated and lose their token hash, so their
 * tokens stop working and may be given to someone else (or to the same person under a new id).
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
    await syncHumanAgents(trx, config);
  });
}

async function syncHumanAgents(trx: Kysely<Database>, config: BotrelicConfig): Promise<void> {
  const agents = new Map<
    string,
    {
      workspace_id: string;
      agent_id: string;
      name: string;
      token_hash: string;
      team_ids: string[];
      capacity: number | null;
    }
  >();
  for (const workspace of config.workspaces) {
    for (const team of workspace.humanTeams) {
      for (const agent of team.agents) {
        const key = `${workspace.id}/${agent.id}`;
        const known = agents.get(key);
        if (known) {
          known.team_ids.push(team.id);
          // The config check allows a capacity in one of an agent's listings only, or the same in each.
          known.capacity ??= agent.capacity ?? null;
        } else
          agents.set(key, {
            workspace_id: workspace.id,
            agent_id: agent.id,
            name: agent.name,
            token_hash: hashAgentToken(agent.token),
            team_ids: [team.id],
            capacity: agent.capacity ?? null,
          });
      }
    }
  }
  // Every hash is released before any is written: token_hash is unique, and a token the config now gives to
  // another agent id would otherwise still be held by its former owner's row.
  await trx.updateTable('human_agents').set({ active: false, token_hash: null }).execute();
  if (agents.size === 0) return;
  // An upsert rather than delete-then-insert: an agent's row (and its availability) outlives a config change.
  await trx
    .insertInto('human_agents')
    .values(
      [...agents.values()].map((agent) => ({
        ...agent,
        team_ids: JSON.stringify(agent.team_ids),
        active: true,
      })),
    )
    .onConflict((conflict) =>
      conflict.columns(['workspace_id', 'agent_id']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        token_hash: eb.ref('excluded.token_hash'),
        team_ids: eb.ref('excluded.team_ids'),
        capacity: eb.ref('excluded.capacity'),
        active: true,
      })),
    )
    .execute();
}

/**
 * An agent the config does not name, for a tool of this process (the sandbox simulator): in no team and never
 * available, so nothing is assigned to it. The next sync deactivates it like any agent the config dropped.
 */
export async function addProcessAgent(
  db: Kysely<Database>,
  agent: { workspaceId: string; agentId: string; name: string; token: string },
): Promise<void> {
  await db
    .insertInto('human_agents')
    .values({
      workspace_id: agent.workspaceId,
      agent_id: agent.agentId,
      name: agent.name,
      token_hash: hashAgentToken(agent.token),
      team_ids: JSON.stringify([]),
      active: true,
      capacity: null,
    })
    .onConflict((conflict) =>
      conflict.columns(['workspace_id', 'agent_id']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        token_hash: eb.ref('excluded.token_hash'),
        active: true,
      })),
    )
    .execute();
}
