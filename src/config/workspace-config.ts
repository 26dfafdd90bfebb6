import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** Fields that hold credentials: their values must never be echoed in an error message or a log. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['accessToken', 'token']);

const identifier = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'must be lowercase letters, digits, "-" or "_" (it becomes a NATS subject token)',
  );

const duration = z
  .union([z.string(), z.number()], { error: 'expected a duration like 90s, 15m, 24h or 2d' })
  .transform((value, ctx) => {
    try {
      const ms = parseDuration(value);
      if (ms > 0) return ms;
      ctx.addIssue({ code: 'custom', message: 'a timeout must be longer than 0' });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
    return z.NEVER;
  });

// YAML reads an unquoted 106540352242922 as a number; accept it while it is exact, since people
// copy the id from Meta's dashboard without quotes.
const phoneNumberId = z.preprocess(
  (value) => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value),
  z.string().regex(/^\d{5,20}$/, "must be Meta's phone_number_id: 5 to 20 digits"),
);

const phoneNumber = z.strictObject({
  phoneNumberId,
  displayPhoneNumber: z.string().optional(),
  mode: z.enum(['sandbox', 'production']),
  accessToken: z.string().optional(),
});

const agentCapacity = z
  .number()
  .int()
  .min(1, 'must be between 1 and 100')
  .max(100, 'must be between 1 and 100');

const humanAgent = z.strictObject({
  id: identifier,
  name: z.string().min(1, 'must not be empty'),
  token: z.string().min(16, 'agent tokens need at least 16 characters'),
  /** This agent's own capacity for auto-assigned sessions, instead of the workspace's handoff.capacity. */
  capacity: agentCapacity.optional(),
});

const humanTeam = z.strictObject({
  id: identifier,
  name: z.string().optional(),
  agents: z.array(humanAgent).default([]),
});

const sessionSettings = z
  .strictObject({
    inactivityTimeout: duration.default(parseDuration('24h')),
    aiTimeout: duration.default(parseDuration('30s')),
    handoffTimeout: duration.default(parseDuration('15m')),
    humanInactivityTimeout: duration.default(parseDuration('2h')),
    onHandoffTimeout: z.enum(['keep_waiting', 'close']).default('keep_waiting'),
    handoffTimeoutMessage: z
      .string()
      .default('Sorry for the wait: our team is busy. We will answer as soon as someone is free.'),
    closedMessage: z.string().optional(),
    historyLimit: z
      .number()
      .int()
      .min(2, 'must be between 2 and 200')
      .max(200, 'must be between 2 and 200')
      .default(20),
  })
  .prefault({});

const agentSettings = z
  .strictObject({
    instructions: z.string().default('You are a helpful customer service assistant.'),
    model: z.string().default('claude-sonnet-4-5'),
    confidenceThreshold: z
      .number()
      .min(0, 'must be between 0 and 1')
      .max(1, 'must be between 0 and 1')
      .default(0.55),
    language: z.string().default('english'),
    /**
     * Tokens (input, cached and output, over every model call of the turn) one answer may use. A turn with
     * follow-up searches sends the conversation again on each call; this bounds what one answer costs.
     */
    maxTokensPerReply: z
      .number()
      .int()
      .min(2_000, 'must be between 2000 and 1000000')
      .max(1_000_000, 'must be between 2000 and 1000000')
      .default(20_000),
  })
  .prefault({});

/** Meta message types the AI cannot read: it sees text, captions, button titles and reactions. */
export const DEFAULT_UNSUPPORTED_TYPES: readonly string[] = [
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'order',
  'unsupported',
];

/** Reply ids and titles of the "talk to a person" buttons and list rows people usually give their menus. */
const DEFAULT_HUMAN_REQUEST_IDS: readonly string[] = [
  'talk_to_human',
  'talk_to_agent',
  'talk_to_person',
  'Talk to a person',
  'Talk to a human',
  'Talk to an agent',
  'Hablar con una persona',
  'Hablar con un agente',
  'Falar com uma pessoa',
  'Falar com um atendente',
];

const messageType = z
  .string()
  .regex(/^[a-z][a-z_]*$/, 'must be a Meta message type, lowercase, like image, audio or sticker')
  .refine((type) => type !== 'text', 'text is what the AI answers: it cannot be an unsupported type');

/** A list without repeats: an entry given twice is a slip (often a copy meant to be edited), so it is pointed out. */
const distinctList = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).superRefine((values, ctx) => {
    values.forEach((value, i) => {
      if (values.indexOf(value) !== i)
        ctx.addIssue({ code: 'custom', path: [i], message: `"${value}" is listed twice` });
    });
  });

const fallbackSettings = z
  .strictObject({
    keywords: z.array(z.string().min(1, 'must not be empty')).default(['human', 'agent', 'person']),
    /** Replaces the default list: a message of one of these types is handed to a person. */
    unsupportedTypes: distinctList(messageType).default([...DEFAULT_UNSUPPORTED_TYPES]),
    /** Replaces the default list: a pressed button or list row with one of these ids or titles asks for a person. */
    humanRequestIds: distinctList(z.string().trim().min(1, 'must not be empty')).default([
      ...DEFAULT_HUMAN_REQUEST_IDS,
    ]),
    maxLowConfidenceTurns: z.number().int().min(1, 'must be at least 1').default(2),
    message: z.string().default('Let me connect you with our team.'),
  })
  .prefault({});

const fallbackReason = z.enum([
  'keyword',
  'low_confidence',
  'unsupported',
  'loop',
  'ai_error',
  'customer_request',
]);

/** Which team a fallback goes to: the first rule that matches wins; with none, `handoff.defaultTeam`. */
const handoffRule = z
  .strictObject({
    reason: fallbackReason.optional(),
    /** Matched as whole words in the fallback's keyword and in the messages it was about. */
    keyword: z.string().min(1, 'must not be empty').optional(),
    team: identifier,
  })
  .refine((rule) => rule.reason !== undefined || rule.keyword !== undefined, {
    message: 'a rule needs a reason, a keyword or both',
  });

const handoffSettings = z
  .strictObject({
    rules: z.array(handoffRule).default([]),
    /** The team a fallback no rule matches goes to; without it, the first of humanTeams. */
    defaultTeam: identifier.optional(),
    /** Hand waiting sessions to available agents of their team, round-robin, instead of waiting for a takeover. */
    autoAssign: z.boolean().default(false),
    /** Taken-over sessions an agent holds before auto-assignment passes them by. */
    capacity: z
      .number()
      .int()
      .min(1, 'must be between 1 and 100')
      .max(100, 'must be between 1 and 100')
      .default(3),
  })
  .prefault({});

const workspace = z.strictObject({
  id: identifier,
  name: z.string().min(1, 'must not be empty'),
  phoneNumbers: z.array(phoneNumber).min(1, 'a workspace needs at least one phone number'),
  agent: agentSettings,
  knowledge: z.array(z.string().min(1, 'must not be empty')).default([]),
  fallback: fallbackSettings,
  humanTeams: z.array(humanTeam).default([]),
  handoff: handoffSettings,
  sessions: sessionSettings,
});

type Workspace = z.output<typeof workspace>;
type Issue = { path: (string | number)[]; message: string };

/** Cross-workspace rules: a phone number and an agent token each identify exactly one owner. */
function crossCheck(workspaces: Workspace[]): Issue[] {
  const issues: Issue[] = [];
  const workspaceIds = new Set<string>();
  const phoneNumberIds = new Set<string>();
  // An agent may sit in several teams under one id and token; a token shared by two agents may not.
  const tokenOwners = new Map<string, string>();
  workspaces.forEach((ws, w) => {
    if (workspaceIds.has(ws.id)) {
      issues.push({ path: [w, 'id'], message: `duplicate workspace id "${ws.id}"` });
    }
    workspaceIds.add(ws.id);
    ws.phoneNumbers.forEach((pn, p) => {
      const path = [w, 'phoneNumbers', p];
      if (phoneNumberIds.has(pn.phoneNumberId)) {
        issues.push({
          path: [...path, 'phoneNumberId'],
          message: `phone number ${pn.phoneNumberId} is configured twice: a number belongs to one workspace`,
        });
      }
      phoneNumberIds.add(pn.phoneNumberId);
      if (pn.mode === 'production' && !pn.accessToken) {
        issues.push({
          path: [...path, 'accessToken'],
          message: 'a production number needs the access token of its Meta app',
        });
      }
    });
    const teamIds = new Set<string>();
    const agentTokens = new Map<string, string>();
    const agentCapacities = new Map<string, number>();
    ws.humanTeams.forEach((team, t) => {
      if (teamIds.has(team.id)) {
        issues.push({ path: [w, 'humanTeams', t, 'id'], message: `duplicate team id "${team.id}"` });
      }
      teamIds.add(team.id);
      team.agents.forEach((agent, a) => {
        const path = [w, 'humanTeams', t, 'agents', a, 'token'];
        const owner = `${ws.id}/${agent.id}`;
        const known = agentTokens.get(agent.id);
        if (known !== undefined && known !== agent.token) {
          issues.push({ path, message: `agent "${agent.id}" is listed elsewhere with a different token` });
        } else if ((tokenOwners.get(agent.token) ?? owner) !== owner) {
          issues.push({
            path,
            message: 'this token is already used by another agent: every agent needs its own',
          });
        }
        // An agent in several teams has one capacity: given in one listing, or the same in each.
        const capacity = agentCapacities.get(agent.id);
        if (agent.capacity !== undefined && capacity !== undefined && capacity !== agent.capacity) {
          issues.push({
            path: [w, 'humanTeams', t, 'agents', a, 'capacity'],
            message: `agent "${agent.id}" is listed elsewhere with capacity ${capacity}: an agent has one capacity`,
          });
        }
        if (capacity === undefined && agent.capacity !== undefined)
          agentCapacities.set(agent.id, agent.capacity);
        if (known === undefined) agentTokens.set(agent.id, agent.token);
        if (!tokenOwners.has(agent.token)) tokenOwners.set(agent.token, owner);
      });
    });
    const { defaultTeam } = ws.handoff;
    if (defaultTeam !== undefined && !teamIds.has(defaultTeam)) {
      issues.push({
        path: [w, 'handoff', 'defaultTeam'],
        message: `no team "${defaultTeam}" in this workspace's humanTeams: the default team must be one of them`,
      });
    }
    ws.handoff.rules.forEach((rule, r) => {
      if (!teamIds.has(rule.team)) {
        issues.push({
          path: [w, 'handoff', 'rules', r, 'team'],
          message: `no team "${rule.team}" in this workspace's humanTeams`,
        });
      }
    });
  });
  return issues;
}

export const botrelicConfigSchema = z
  .strictObject({ workspaces: z.array(workspace).min(1, 'configure at least one workspace') })
  .superRefine((config, ctx) => {
    for (const issue of crossCheck(config.workspaces)) {
      ctx.addIssue({ code: 'custom', path: ['workspaces', ...issue.path], message: issue.message });
    }
  });

export type BotrelicConfig = z.output<typeof botrelicConfigSchema>;
export type WorkspaceConfig = BotrelicConfig['workspaces'][number];
