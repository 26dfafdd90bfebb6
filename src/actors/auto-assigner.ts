import type { Logger } from 'pino';
import type { InboxQueries } from '../persistence/inbox-queries.ts';
import { workspaceEventsSubject } from '../transport/subjects.ts';
import type { Subscription, Transport } from '../transport/transport.ts';
import { nextAgent } from './round-robin.ts';
import type { SessionClient } from './session-client.ts';
import type { SessionNotice } from './session-notice.ts';

export interface AutoAssignerOptions {
  transport: Transport;
  queries: Pick<InboxQueries, 'listHandoffSessions' | 'listAvailableAgents'>;
  sessions: Pick<SessionClient, 'command'>;
  logger: Logger;
  /** The workspaces that auto-assign, each with the sessions an agent holds at most unless their own capacity says. */
  workspaces: ReadonlyMap<string, { capacity: number }>;
}

const QUEUE_STATES = new Set(['fallback', 'human']);

/**
 * A team's queue handed out round-robin to its available agents, up to each one's capacity. It runs again
 * whenever a session joins or leaves a queue or an agent's hands, anywhere in the cluster (the workspace's
 * events), and when an agent becomes available. Takeovers go through the session like an agent's own, so if
 * two nodes assign one session at once, one takeover wins and the other is refused.
 */
export class AutoAssigner {
  readonly #options: AutoAssignerOptions;
  readonly #subscriptions: Subscription[] = [];
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Per workspace and team: the agent who got the last session. */
  readonly #last = new Map<string, string>();

  constructor(options: AutoAssignerOptions) {
    this.#options = options;
  }

  start(): void {
    for (const workspaceId of this.#options.workspaces.keys()) {
      this.#subscriptions.push(
        this.#options.transport.subscribe(workspaceEventsSubject(workspaceId), (message) => {
          const notice = message.payload as SessionNotice;
          const moved = notice.state !== notice.previousState;
          if (moved && (QUEUE_STATES.has(notice.state) || QUEUE_STATES.has(notice.previousState ?? ''))) {
            void this.assign(workspaceId);
          }
        }),
      );
      void this.assign(workspaceId);
    }
  }

  async stop(): Promise<void> {
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
    await Promise.all(this.#running.values());
  }

  /** Hands the workspace's waiting sessions out, oldest first; resolves when nothing more can be assigned. */
  assign(workspaceId: string): Promise<void> {
    if (!this.#options.workspaces.has(workspaceId)) return Promise.resolve();
    const running = this.#running.get(workspaceId);
    if (running) {
      this.#again.add(workspaceId);
      return running;
    }
    const run = (async () => {
      do {
        this.#again.delete(workspaceId);
        await this.#assignOnce(workspaceId).catch((error: unknown) =>
          this.#options.logger.error({ err: error, workspaceId }, 'auto-assignment failed'),
        );
      } while (this.#again.has(workspaceId));
    })().finally(() => this.#running.delete(workspaceId));
    this.#running.set(workspaceId, run);
    return run;
  }

  async #assignOnce(workspaceId: string): Promise<void> {
    const { queries, sessions, workspaces } = this.#options;
    const workspaceCapacity = workspaces.get(workspaceId)!.capacity;
    const [open, agents] = await Promise.all([
      queries.listHandoffSessions(workspaceId),
      queries.listAvailableAgents(workspaceId),
    ]);
    if (agents.length === 0) return;
    const capacities = new Map(agents.map((agent) => [agent.agentId, agent.capacity]));
    const capacityOf = (agentId: string) => capacities.get(agentId) ?? workspaceCapacity;
    const load = new Map<string, number>();
    for (const session of open) {
      const owner = session.context.handoff?.agentId;
      if (session.state === 'human' && owner) load.set(owner, (load.get(owner) ?? 0) + 1);
    }
    const waiting = open
      .filter((session) => session.state === 'fallback')
      .sort((a, b) => (a.context.handoff?.requestedAt ?? 0) - (b.context.handoff?.requestedAt ?? 0));
    for (const session of waiting) {
      const teamId = session.context.handoff?.teamId ?? null;
      const team = agents.filter((agent) => teamId === null || agent.teamIds.includes(teamId));
      const key = `${workspaceId}/${teamId}`;
      const agentId = nextAgent(
        team.map((agent) => agent.agentId),
        load,
        capacityOf,
        this.#last.get(key),
      );
      if (agentId === undefined) continue;
      const address = { workspaceId, sessionKey: session.sessionKey, partition: session.partition };
      const result = await sessions.command(address, {
        type: 'agent.takeover',
        agentId,
        sessionId: session.id,
      });
      if (!result.ok) continue;
      load.set(agentId, (load.get(agentId) ?? 0) + 1);
      this.#last.set(key, agentId);
      this.#options.logger.info(
        { workspaceId, sessionId: session.id, agentId, teamId },
        'session auto-assigned',
      );
    }
  }
}
