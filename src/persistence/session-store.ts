/**
 * What the actor host needs from storage. One kysely implementation serves both adapters
 * (Postgres through `pg`, PGlite embedded): the dialect is chosen at the composition root.
 * Every method is scoped by workspace or by the partitions the caller owns.
 */
export interface SessionAddress {
  workspaceId: string;
  sessionKey: string;
  partition: number;
}

export interface StoredSession extends SessionAddress {
  id: string;
  phoneNumberId: string;
  customerWaId: string;
  state: string;
  snapshot: unknown;
  machineVersion: number;
  /** Bumped by every write; a write names the version it read. */
  version: number;
  nextDeadlineAt: number | null;
  createdAt: number;
  closedAt: number | null;
}

/** Meta's `context` of an inbound message: the message it replies to, or that it was forwarded. */
export interface InboundContext {
  /** The sender of the message replied to; null on forwarded messages. */
  from: string | null;
  /** The wamid replied to, or the product message an enquiry came from. */
  id: string | null;
  forwarded?: boolean;
  frequentlyForwarded?: boolean;
}

/** What an inbound message says beyond its text and type; null where the message has none. */
export interface InboundDetails {
  context: InboundContext | null;
  /** The click-to-WhatsApp ad the message came from, as Meta sent it. */
  referral: Record<string, unknown> | null;
  /** The id of the reply button or list row tapped, or a template quick reply's payload. */
  interactiveReplyId: string | null;
  /** Meta's id of the media the message carries. */
  mediaId: string | null;
}

/** An inbound row as stored; the store always reads its details (null where the message has none). */
export interface InboundMessage extends Partial<InboundDetails> {
  id: string;
  workspaceId: string;
  sessionKey: string;
  phoneNumberId: string;
  customerWaId: string;
  wamid: string;
  type: string;
  body: string | null;
  /** The WhatsApp profile name from the webhook's `contacts`, when Meta sent one. */
  customerName: string | null;
  /** The Meta message object as received. */
  payload: unknown;
  /** Meta's timestamp, ms since epoch. */
  sentAt: number;
  receivedAt: number;
}

export interface NewInboundMessage extends SessionAddress, Partial<InboundDetails> {
  phoneNumberId: string;
  customerWaId: string;
  wamid: string;
  type: string;
  body: string | null;
  customerName: string | null;
  payload: unknown;
  sentAt: number;
  /** When the gateway received it, ms since epoch; the database clock when omitted. */
  receivedAt?: number;
}

/** A message the session wants sent: written as a message row plus an outbox row, in the session's transaction. */
export interface OutboundIntent {
  /** Who wrote it: the AI, a human agent, or the system (handoff notices, timeouts). */
  author: 'ai' | 'agent' | 'system';
  type: 'text' | 'template';
  body: string;
  /** The Graph API message object (without `messaging_product` and `to`). */
  payload: unknown;
}

export interface SessionWrite {
  session: Omit<StoredSession, 'version' | 'createdAt'> & { createdAt?: number };
  /** The version that was read; `null` creates the session (and fails if an open one exists for the key). */
  expectedVersion: number | null;
  /** Inbound rows this transition consumed: marked applied and attached to the session. */
  appliedInboundIds: string[];
  outbound: OutboundIntent[];
  /** What this change looks like to a live inbox; stored as a session event in the same transaction. */
  event?: unknown;
  now: number;
}

export interface WrittenSession extends StoredSession {
  /** The stored session event's id (increasing per commit), when the write carried one. */
  eventId: string | null;
}

export class StaleSessionError extends Error {
  constructor(
    readonly sessionId: string,
    readonly expectedVersion: number | null,
  ) {
    super(
      expectedVersion === null
        ? `session ${sessionId}: another writer created a session for this key first`
        : `session ${sessionId}: version ${expectedVersion} is stale, another writer got there first`,
    );
    this.name = 'StaleSessionError';
  }
}

export interface SessionStore {
  /** The open (not closed) session of a key, if any. */
  loadOpenSession(workspaceId: string, sessionKey: string): Promise<StoredSession | undefined>;
  /** Inbound rows not yet applied, in Meta timestamp order (arrival order breaks ties). */
  listPendingInbound(workspaceId: string, sessionKey: string, limit?: number): Promise<InboundMessage[]>;
  /** Writes snapshot, applied inbound marks, message and outbox rows in one transaction. Throws `StaleSessionError`. */
  writeSession(write: SessionWrite): Promise<WrittenSession>;
  /** Open sessions in these partitions whose next deadline is at or before `now`. */
  listDueSessions(partitions: readonly number[], now: number, limit: number): Promise<SessionAddress[]>;
  /** Open sessions of these partitions in one of these states: work in flight that a new owner resumes. */
  listSessionsInStates(
    partitions: readonly number[],
    states: readonly string[],
    limit: number,
  ): Promise<SessionAddress[]>;
  /** Keys with inbound rows received before `receivedBefore` and still not applied (a lost notice, a crash). */
  listStalledInbound(
    partitions: readonly number[],
    receivedBefore: number,
    limit: number,
  ): Promise<SessionAddress[]>;
}

export interface InboundStore {
  /**
   * Inserts inbound rows in one committed transaction, skipping wamids the workspace already has.
   * Resolves only after the commit: the gateway's 200 depends on it.
   */
  recordInbound(
    messages: readonly NewInboundMessage[],
  ): Promise<{ inserted: NewInboundMessage[]; duplicates: number }>;
}
