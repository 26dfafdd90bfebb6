import { z } from 'zod';

/**
 * The agent API's contract. Routes take their JSON Schemas from here (json-schema.ts), handlers and the
 * inbox client their types: one source for validation, serialisation, OpenAPI and TypeScript.
 */
const fallbackReason = z.enum([
  'keyword',
  'low_confidence',
  'unsupported',
  'loop',
  'ai_error',
  'customer_request',
]);
const ms = z.number().describe('ms since epoch');

const handoff = z.object({
  reason: fallbackReason,
  requestedAt: ms,
  teamId: z.string().nullable(),
  agentId: z.string().nullable(),
  takenAt: ms.nullable(),
  customerNotifiedAt: ms.nullable(),
});

export const sessionSummary = z.object({
  sessionId: z.string(),
  state: z.string().describe('active, ai_responding, fallback (waiting for a person), human or closed'),
  customer: z.object({ waId: z.string(), name: z.string().nullable() }),
  phoneNumberId: z.string(),
  handoff: handoff.nullable(),
  waitingMs: z.number().nullable().describe('how long a waiting session has waited for a person'),
  lastMessage: z.string().nullable(),
  serviceWindowEndsAt: ms.nullable().describe("end of WhatsApp's 24-hour window for free-form replies"),
  updatedAt: ms,
});

const teamQueue = z.object({
  teamId: z.string().nullable().describe('null for sessions routed to no team (a workspace without teams)'),
  own: z.boolean().describe("one of the calling agent's teams (or no team)"),
  waiting: z.array(sessionSummary).describe('waiting for a person, oldest first'),
});

export const inboxView = z.object({
  agent: z.object({
    agentId: z.string(),
    name: z.string(),
    teamIds: z.array(z.string()),
    available: z.boolean().describe('takes auto-assigned sessions'),
  }),
  now: ms,
  lastEventId: z.string().describe('resume the event stream after this id (Last-Event-ID) to miss nothing'),
  queues: z
    .array(teamQueue)
    .describe(
      "sessions waiting for a person, by team: the calling agent's teams first (listed even when empty), then " +
        'sessions of no team, then the other teams with sessions waiting (by team id), so anyone can help out',
    ),
  mine: z.array(sessionSummary).describe('assigned to the calling agent'),
  others: z.array(sessionSummary).describe('assigned to other agents'),
});

const transcriptMessage = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  author: z.enum(['customer', 'ai', 'agent', 'system']),
  type: z.string(),
  text: z.string().nullable(),
  status: z.enum(['received', 'pending', 'sent', 'delivered', 'read', 'failed']),
  wamid: z.string().nullable(),
  sentAt: ms,
  error: z.object({ code: z.number().nullable(), title: z.string().nullable() }).nullable(),
});

const decision = z.union([
  z.object({
    kind: z.literal('ai'),
    at: ms,
    text: z.string(),
    confidence: z.number(),
    chunks: z.array(z.string()).describe('knowledge chunks the answer rests on'),
    evidence: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('why it answered: rule, weak, threshold, best hits, token usage; absent on older answers'),
  }),
  z.object({
    kind: z.literal('fallback'),
    at: ms,
    reason: fallbackReason,
    evidence: z.record(z.string(), z.unknown()).describe('why the rule fired'),
  }),
  z.object({ kind: z.literal('handback'), at: ms, agentId: z.string() }),
]);

const handoffStep = z.object({
  kind: z.enum(['requested', 'customer_told_to_wait', 'taken', 'released', 'closed']),
  at: ms,
  reason: fallbackReason.nullable(),
  teamId: z.string().nullable(),
  agentId: z.string().nullable(),
});

export const sessionView = z.object({
  session: sessionSummary.extend({
    version: z.number(),
    createdAt: ms,
    closedAt: ms.nullable(),
    closedReason: z.enum(['inactivity', 'human_inactivity', 'agent', 'handoff_timeout']).nullable(),
  }),
  transcript: z.array(transcriptMessage),
  decisions: z.array(decision).describe("the AI's answers and fallbacks, with confidence and evidence"),
  handoffHistory: z.array(handoffStep),
  serviceWindow: z.object({ endsAt: ms.nullable(), open: z.boolean() }),
});

export const commandAccepted = z.object({ sessionId: z.string(), state: z.string(), version: z.number() });

export const apiError = z.object({
  error: z.string().describe('a stable code, e.g. session_not_found, already_taken, outside_service_window'),
  message: z.string(),
  serviceWindowEndedAt: ms.optional(),
  templateRoute: z.string().optional(),
});

export const availability = z.strictObject({ available: z.boolean() });

export const availabilityChanged = z.object({ agentId: z.string(), available: z.boolean() });

export const sessionParams = z.strictObject({ sessionId: z.string().min(1).max(100) });

export const replyBody = z.strictObject({
  text: z.string().min(1).max(4096, 'WhatsApp text messages hold at most 4096 characters').regex(/\S/),
});

export const templateBody = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9_]{1,512}$/, "a template's name as approved in Meta's WhatsApp Manager")
    .describe('the approved template, e.g. order_update'),
  language: z
    .string()
    .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as en or en_US')
    .describe('the language of the approved template, e.g. en_US'),
  components: z
    .array(z.record(z.string(), z.unknown()))
    .max(10)
    .optional()
    .describe("Meta's template components with their parameters, sent as given"),
});

export type SessionSummary = z.output<typeof sessionSummary>;
export type InboxView = z.output<typeof inboxView>;
export type TeamQueue = z.output<typeof teamQueue>;
export type SessionView = z.output<typeof sessionView>;
export type Decision = z.output<typeof decision>;
export type HandoffStep = z.output<typeof handoffStep>;
export type CommandAccepted = z.output<typeof commandAccepted>;
