import type { SessionNotice } from '../actors/session-notice.ts';
import type { InboxQueries, StoredSessionEvent } from '../persistence/inbox-queries.ts';
import type { MessageStatusEvent, StatusEventsListener } from '../persistence/status-events.ts';
import { sessionSubject, workspaceEventsSubject } from '../transport/subjects.ts';
import type { Subscription, Transport } from '../transport/transport.ts';
import { toInboxEvent, toStatusEvent } from './inbox-events.ts';

export interface LiveEventsOptions {
  transport: Transport;
  queries: Pick<InboxQueries, 'listEventsAfter' | 'latestEventId'>;
  /** A comment line this often keeps proxies and the client from taking a quiet stream for a dead one. */
  heartbeatMs: number;
  /** A client further behind than this many events is told to reload (`resync`) instead of replaying them. */
  replayLimit: number;
}

const PAGE_SIZE = 200;

/**
 * One agent's live view of its workspace, as Server-Sent Events whose ids are session event ids.
 *
 * Notices on the transport (from whichever node hosts the session) only ring the bell: the events are then read
 * from `session_events` after the stream's cursor. Ids of one workspace commit in increasing order (the session
 * store takes them under a per-workspace lock), so "everything after the cursor" is exactly what was missed,
 * whether the stream is replaying after a reconnect, racing a notice that arrived during the replay, or
 * receiving notices from two nodes out of order: no gap, no duplicate, always in id order.
 */
export class WorkspaceEventStream {
  readonly #workspaceId: string;
  readonly #write: (chunk: string) => void;
  readonly #fail: (error: unknown) => void;
  readonly #options: LiveEventsOptions;
  #cursor = '0';
  #subscription: Subscription | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ready = false;
  #reading: Promise<void> | undefined;
  #again = false;
  #closed = false;

  /** `fail` hears of a read that failed after `open`: the stream is then unusable, end the response. */
  constructor(
    workspaceId: string,
    io: { write: (chunk: string) => void; fail: (error: unknown) => void },
    options: LiveEventsOptions,
  ) {
    this.#workspaceId = workspaceId;
    this.#write = io.write;
    this.#fail = io.fail;
    this.#options = options;
  }

  /** Subscribes first and reads after, so nothing committed in between is missed. */
  async open(lastEventId: string | undefined): Promise<void> {
    const { transport, queries } = this.#options;
    this.#subscription = transport.subscribe(workspaceEventsSubject(this.#workspaceId), () => {
      this.#pump().catch(this.#fail);
    });
    await transport.flush();
    if (lastEventId === undefined) {
      this.#cursor = await queries.latestEventId(this.#workspaceId);
    } else {
      const backlog = await queries.listEventsAfter(
        this.#workspaceId,
        lastEventId,
        this.#options.replayLimit + 1,
      );
      if (backlog.length > this.#options.replayLimit) {
        this.#cursor = await queries.latestEventId(this.#workspaceId);
        this.#send('resync', { lastEventId: this.#cursor, reason: 'too far behind: reload the inbox' });
      } else {
        this.#cursor = lastEventId;
        for (const event of backlog) this.#sendEvent(event);
      }
    }
    if (this.#closed) return;
    this.#send('ready', { lastEventId: this.#cursor });
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), this.#options.heartbeatMs);
    this.#ready = true;
    await this.#pump();
  }

  close(): void {
    this.#closed = true;
    this.#subscription?.unsubscribe();
    clearInterval(this.#heartbeat);
  }

  /** Resolves when the stream has caught up with everything the bell announced so far. */
  #pump(): Promise<void> {
    if (!this.#ready || this.#closed) return Promise.resolve();
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = this.#readAll().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #readAll(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        const events = await this.#options.queries.listEventsAfter(
          this.#workspaceId,
          this.#cursor,
          PAGE_SIZE,
        );
        if (this.#closed) return;
        for (const event of events) this.#sendEvent(event);
        if (events.length < PAGE_SIZE) break;
      }
    } while (this.#again);
  }

  #sendEvent(event: StoredSessionEvent): void {
    const payload = event.payload as SessionNotice | MessageStatusEvent;
    const { type, data } = payload.type === 'message.status' ? toStatusEvent(payload) : toInboxEvent(payload);
    this.#write(`id: ${event.id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    this.#cursor = event.id;
  }

  /**
   * `ready` and `resync` carry the cursor as their id: a client that drops before the next session event then
   * resumes from where this stream started, instead of from an id that a resync skipped (another resync on
   * every reconnect) or from no id at all (losing what was committed while it was away).
   */
  #send(type: 'ready' | 'resync', data: unknown): void {
    this.#write(`id: ${this.#cursor}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

/**
 * Rings the live streams of the workspaces whose status events were just committed: those events come from no
 * session's commit, so no session notice announces them. One notice per workspace on a session's `evt`
 * subject reaches every stream of the workspace on any node, which then reads everything after its cursor.
 * The notice carries no state (`previousState` and `state` absent), so whatever watches state changes on those
 * subjects ignores it. Best effort, like the session's own notices: a missed bell is made up by the next one.
 */
export function createLiveEventsBell(
  transport: Transport,
  onError: (error: unknown) => void,
): StatusEventsListener {
  return (sessions) => {
    for (const { workspaceId, partition, sessionKey } of sessions) {
      transport
        .publish(sessionSubject(workspaceId, partition, sessionKey, 'evt'), { type: 'message.status' })
        .catch(onError);
    }
  };
}
