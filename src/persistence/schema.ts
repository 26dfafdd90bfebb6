import type { ColumnType, Generated, GeneratedAlways, Selectable } from 'kysely';

/** Timestamps are stored as timestamptz and read as Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp the database defaults to `now()`. (kysely's `Generated<Timestamp>` would nest the ColumnType.) */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string, T | string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: DefaultedTimestamp;
}

export interface PhoneNumbersTable {
  phone_number_id: string;
  workspace_id: string;
  mode: 'sandbox' | 'production';
  display_phone_number: string | null;
}

export interface SessionsTable {
  id: string;
  workspace_id: string;
  /** `<phoneNumberId>-<customerWaId>`: the conversation; at most one open session per key. */
  session_key: string;
  partition: number;
  phone_number_id: string;
  customer_wa_id: string;
  state: string;
  snapshot: Json<unknown>;
  machine_version: number;
  /** Optimistic concurrency: every write expects the version it read and bumps it. */
  version: number;
  next_deadline_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
}

export type MessageStatus = 'received' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface MessagesTable {
  /** `generated always as identity`: bigint, read as a string. */
  id: GeneratedAlways<string>;
  workspace_id: string;
  session_key: string;
  partition: number;
  /** Null for inbound rows the session actor has not applied yet. */
  session_id: string | null;
  direction: 'in' | 'out';
  /** Who wrote an outbound message (`OutboundIntent.author`); null for inbound, the customer wrote it. */
  author: 'ai' | 'agent' | 'system' | null;
  /** Meta's message id: known on arrival for inbound, after the Graph call for outbound. */
  wamid: string | null;
  phone_number_id: string;
  customer_wa_id: string;
  type: string;
  body: string | null;
  /** WhatsApp profile name from the webhook's `contacts` (inbound only). */
  customer_name: string | null;
  payload: Json<unknown>;
  /** Meta's `timestamp` for inbound; creation time for outbound. Orders a session's messages. */
  sent_at: Timestamp;
  status: MessageStatus;
  error_code: number | null;
  error_title: string | null;
  /** When the session actor applied this inbound row (in the same transaction as its snapshot). */
  applied_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  /** Inbound: Meta's `context` as parsed (`InboundContext`): the message replied to, or forwarding flags. */
  context: Json<Record<string, unknown>> | null;
  /** Inbound: the click-to-WhatsApp ad the message came from, as Meta sent it. */
  referral: Json<Record<string, unknown>> | null;
  /** Inbound: the id of the reply button or list row tapped, or a template quick reply's payload. */
  interactive_reply_id: string | null;
  /** Inbound: Meta's id of the image, audio, video, document or sticker. */
  media_id: string | null;
}

export interface OutboxTable {
  /** `generated always as identity`: bigint, read as a string. */
  id: GeneratedAlways<string>;
  workspace_id: string;
  session_id: string;
  message_id: string;
  phone_number_id: string;
  customer_wa_id: string;
  payload: Json<unknown>;
  status: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  created_at: DefaultedTimestamp;
  sent_at: Timestamp | null;
}

/** A status about a wamid no message of the workspace has yet; applied when the sender stores that wamid. */
export interface UnmatchedStatusesTable {
  workspace_id: string;
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  error_code: number | null;
  error_title: string | null;
  received_at: Timestamp;
}

/** A failed outbound message whose session has not recorded the failure yet. */
export interface FailureNoticesTable {
  /** The failed message (outbound); one notice per message. */
  message_id: string;
  workspace_id: string;
  attempts: Generated<number>;
  /** Due from then; a notifier that claims it moves it past its lease. */
  next_attempt_at: Timestamp;
  created_at: Timestamp;
}

export interface HumanAgentsTable {
  workspace_id: string;
  agent_id: string;
  name: string;
  /** SHA-256 (hex) of the agent's bearer token; null once the config no longer names the agent. */
  token_hash: string | null;
  team_ids: Json<string[]>;
  active: Generated<boolean>;
  /** The agent takes auto-assigned sessions (set from the inbox; off by default). */
  available: Generated<boolean>;
  /** Per-agent override of the workspace's handoff.capacity (from the config); null takes the workspace's. */
  capacity: number | null;
}

export interface SessionEventsTable {
  /** `generated always as identity`: the SSE event id, increasing in commit order. */
  id: GeneratedAlways<string>;
  workspace_id: string;
  session_id: string;
  payload: Json<unknown>;
  created_at: DefaultedTimestamp;
}

export interface KnowledgeDocumentsTable {
  workspace_id: string;
  /** The file's path relative to its knowledge folder, or the id given through the API. */
  document_id: string;
  title: string;
  /** Where the document came from: a `file:` URL for folder ingests (which own those rows), else the caller's. */
  source: string;
  /** A Postgres text search configuration: english, spanish, simple, ... */
  language: string;
  content_hash: string;
  updated_at: DefaultedTimestamp;
}

export interface KnowledgeChunksTable {
  workspace_id: string;
  /** `<document_id>#<position>`. */
  id: string;
  document_id: string;
  position: number;
  title: string;
  heading: string | null;
  text: string;
  language: string;
  /** Computed by the INSERT from title, heading and text; read as its text form. */
  tsv: string;
}

export interface Database {
  workspaces: WorkspacesTable;
  phone_numbers: PhoneNumbersTable;
  sessions: SessionsTable;
  messages: MessagesTable;
  outbox: OutboxTable;
  human_agents: HumanAgentsTable;
  session_events: SessionEventsTable;
  unmatched_statuses: UnmatchedStatusesTable;
  failure_notices: FailureNoticesTable;
  knowledge_documents: KnowledgeDocumentsTable;
  knowledge_chunks: KnowledgeChunksTable;
}

export type SessionRow = Selectable<SessionsTable>;
