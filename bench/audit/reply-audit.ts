import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/persistence/schema.ts';
import type { SentMessage } from '../load/traffic.ts';
import type { ReceivedReply } from '../services/fake-graph-api.ts';
import { Samples } from '../support/samples.ts';

/**
 * The exactly-once check, from the engine's own record (session events, in commit order) and what the fake
 * Graph API received. It fails the run when any of these counts is not zero:
 *
 * - `inboundLost`: a message acknowledged 200 is not stored, or never reached its session.
 * - `inboundAppliedTwice`: a message reached its session more than once (a redelivery took effect).
 * - `repliesLost`: a customer message was never followed by a reply in its session (unless the session was
 *   handed to a person before it: then a person answers, and it is counted in `handedOff` instead).
 * - `repliesDuplicated`: two replies in a session with no customer message between them: a burst answered
 *   twice. (A burst answered in two parts, because its second line arrived after the first reply was
 *   committed, is two customer runs each answered once: not a duplicate.)
 * - `outboxMismatch`: a session's stored outbound messages are not one per reply.
 * - `unsent`: an outbound message never reached the Graph API (no wamid, or not `sent`/`delivered`/`read`).
 * - `sendsDuplicated` / `sendsLost`: the Graph API received more / fewer messages for a customer than the
 *   engine stored; `unknownWamids`: a stored wamid the Graph API never issued.
 * - `statusRegressed`: a reply whose `read` status was acknowledged does not end `read` (statuses arrive
 *   out of order; they must only move forward).
 */
export interface AuditResult {
  ok: boolean;
  counts: {
    inboundAccepted: number;
    inboundLost: number;
    inboundAppliedTwice: number;
    replies: number;
    repliesLost: number;
    repliesDuplicated: number;
    handedOff: number;
    outboxMismatch: number;
    unsent: number;
    sendsDuplicated: number;
    sendsLost: number;
    unknownWamids: number;
    statusRegressed: number;
  };
  /** A few examples of each problem, to start debugging from. */
  examples: string[];
  /** Per phase: from a message's webhook being due to the reply that answered it reaching the Graph API. */
  endToEnd: Map<string, Samples>;
}

const REPLY_KINDS = new Set(['ai', 'fallback', 'system', 'agent']);
const DELIVERED = new Set(['sent', 'delivered', 'read']);
const PAGE = 20_000;

interface SessionTrail {
  /** Customer wamids in order, each with the index of the reply that answered it (-1: none yet). */
  customers: { wamid: string; reply: number }[];
  /** Customers from this index on are not answered yet (a reply answers every one before it). */
  unansweredFrom: number;
  replies: number;
  handedOff: boolean;
}

export async function auditReplies(
  db: Kysely<Database>,
  sent: ReadonlyMap<string, SentMessage>,
  received: readonly ReceivedReply[],
  readAcknowledged: ReadonlySet<string>,
): Promise<AuditResult> {
  const counts: AuditResult['counts'] = {
    inboundAccepted: 0,
    inboundLost: 0,
    inboundAppliedTwice: 0,
    replies: 0,
    repliesLost: 0,
    repliesDuplicated: 0,
    handedOff: 0,
    outboxMismatch: 0,
    unsent: 0,
    sendsDuplicated: 0,
    sendsLost: 0,
    unknownWamids: 0,
    statusRegressed: 0,
  };
  const examples: string[] = [];
  const problem = (kind: keyof AuditResult['counts'], detail: string) => {
    counts[kind]++;
    if (examples.filter((example) => example.startsWith(kind)).length < 3)
      examples.push(`${kind}: ${detail}`);
  };

  const trails = await readTrails(db, problem);
  const applied = new Map<string, number>();
  for (const trail of trails.values()) {
    for (const { wamid } of trail.customers) applied.set(wamid, (applied.get(wamid) ?? 0) + 1);
  }
  for (const [wamid, message] of sent) {
    if (!message.accepted) continue;
    counts.inboundAccepted++;
    const times = applied.get(wamid) ?? 0;
    if (times === 0) problem('inboundLost', `${wamid} (customer ${message.customer.conversation.waId})`);
    if (times > 1) problem('inboundAppliedTwice', `${wamid} applied ${times} times`);
  }

  const outbound = await db
    .selectFrom('messages')
    .select(['id', 'session_id', 'wamid', 'status', 'phone_number_id', 'customer_wa_id'])
    .where('direction', '=', 'out')
    .orderBy('id')
    .execute();
  const outboundBySession = new Map<string, typeof outbound>();
  for (const row of outbound) {
    const list = outboundBySession.get(row.session_id!) ?? [];
    list.push(row);
    outboundBySession.set(row.session_id!, list);
  }

  const receivedByWamid = new Map(received.map((reply) => [reply.wamid, reply]));
  const endToEnd = new Map<string, Samples>();
  for (const [sessionId, trail] of trails) {
    counts.replies += trail.replies;
    const rows = outboundBySession.get(sessionId) ?? [];
    if (rows.length !== trail.replies) {
      problem(
        'outboxMismatch',
        `session ${sessionId}: ${trail.replies} replies, ${rows.length} outbound rows`,
      );
    }
    for (const { wamid, reply } of trail.customers) {
      if (reply < 0) {
        if (trail.handedOff) counts.handedOff++;
        else problem('repliesLost', `${wamid} in session ${sessionId}`);
        continue;
      }
      const message = sent.get(wamid);
      const arrived = receivedByWamid.get(rows[reply]?.wamid ?? '');
      if (!message || !arrived) continue;
      const samples = endToEnd.get(message.phase) ?? new Samples();
      samples.add(arrived.at - message.dueAt);
      endToEnd.set(message.phase, samples);
    }
  }

  const storedPerCustomer = new Map<string, number>();
  for (const row of outbound) {
    if (!row.wamid || !DELIVERED.has(row.status)) problem('unsent', `message ${row.id} is ${row.status}`);
    else if (!receivedByWamid.has(row.wamid)) problem('unknownWamids', `message ${row.id}: ${row.wamid}`);
    const key = `${row.phone_number_id}:${row.customer_wa_id}`;
    storedPerCustomer.set(key, (storedPerCustomer.get(key) ?? 0) + 1);
  }
  const receivedPerCustomer = new Map<string, number>();
  for (const reply of received) {
    const key = `${reply.phoneNumberId}:${reply.to}`;
    receivedPerCustomer.set(key, (receivedPerCustomer.get(key) ?? 0) + 1);
  }
  for (const key of new Set([...storedPerCustomer.keys(), ...receivedPerCustomer.keys()])) {
    const stored = storedPerCustomer.get(key) ?? 0;
    const got = receivedPerCustomer.get(key) ?? 0;
    if (got > stored) problem('sendsDuplicated', `${key}: Graph API got ${got}, engine stored ${stored}`);
    if (got < stored) problem('sendsLost', `${key}: Graph API got ${got}, engine stored ${stored}`);
  }

  const statusOf = new Map(outbound.map((row) => [row.wamid, row.status]));
  for (const wamid of readAcknowledged) {
    const status = statusOf.get(wamid);
    if (status !== 'read') problem('statusRegressed', `${wamid} is ${status ?? 'missing'} after read`);
  }

  const failures: (keyof AuditResult['counts'])[] = [
    'inboundLost',
    'inboundAppliedTwice',
    'repliesLost',
    'repliesDuplicated',
    'outboxMismatch',
    'unsent',
    'sendsDuplicated',
    'sendsLost',
    'unknownWamids',
    'statusRegressed',
  ];
  return { ok: failures.every((kind) => counts[kind] === 0), counts, examples, endToEnd };
}

/** Every session's customer messages and replies, in commit order, read from its stored session events. */
async function readTrails(
  db: Kysely<Database>,
  problem: (kind: 'repliesDuplicated', detail: string) => void,
): Promise<Map<string, SessionTrail>> {
  const trails = new Map<string, SessionTrail>();
  let after = '0';
  for (;;) {
    // Only the kind and wamid of each entry: the texts would cost the bench hundreds of megabytes.
    const { rows } = await sql<{
      id: string;
      session_id: string;
      entries: { kind: string; wamid: string | null }[] | null;
    }>`
      select e.id, e.session_id,
        (select jsonb_agg(jsonb_build_object('kind', x->>'kind', 'wamid', x->>'wamid') order by n)
           from jsonb_array_elements(e.payload->'entries') with ordinality as t(x, n)) as entries
      from session_events e
      where e.id > ${after}::bigint
      order by e.id
      limit ${PAGE}`.execute(db);
    for (const row of rows) {
      const trail = trails.get(row.session_id) ?? {
        customers: [],
        unansweredFrom: 0,
        replies: 0,
        handedOff: false,
      };
      trails.set(row.session_id, trail);
      for (const entry of row.entries ?? []) {
        if (entry.kind === 'customer' && entry.wamid) {
          trail.customers.push({ wamid: entry.wamid, reply: -1 });
        } else if (REPLY_KINDS.has(entry.kind)) {
          if (trail.unansweredFrom === trail.customers.length) {
            problem('repliesDuplicated', `session ${row.session_id}, event ${row.id}`);
          }
          for (const customer of trail.customers.slice(trail.unansweredFrom)) customer.reply = trail.replies;
          trail.unansweredFrom = trail.customers.length;
          trail.replies++;
          if (entry.kind === 'fallback') trail.handedOff = true;
        }
      }
    }
    if (rows.length < PAGE) return trails;
    after = rows.at(-1)!.id;
  }
}
