import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../persistence/schema.ts';
import { hashAgentToken } from '../persistence/workspace-sync.ts';

/** Who is calling: a human agent, always of exactly one workspace. */
export interface AuthenticatedAgent {
  workspaceId: string;
  agentId: string;
  name: string;
  teamIds: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    agent: AuthenticatedAgent | null;
  }
}

/**
 * Resolves `Authorization: Bearer <token>` to an agent by the token's hash. Unknown, inactive or
 * missing tokens get 401 with a `WWW-Authenticate` challenge; the token is never logged.
 */
export function createAgentAuthenticator(db: Kysely<Database>) {
  return async function authenticateAgent(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    const row = token
      ? await db
          .selectFrom('human_agents')
          .select(['workspace_id', 'agent_id', 'name', 'team_ids'])
          .where('token_hash', '=', hashAgentToken(token))
          .where('active', '=', true)
          .executeTakeFirst()
      : undefined;
    if (!row) {
      await reply.code(401).header('www-authenticate', 'Bearer realm="botrelic"').send({
        error: 'unauthorized',
        message: 'send a valid agent token as "Authorization: Bearer <token>"',
      });
      return;
    }
    request.agent = {
      workspaceId: row.workspace_id,
      agentId: row.agent_id,
      name: row.name,
      teamIds: row.team_ids,
    };
  };
}
