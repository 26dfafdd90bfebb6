import { z } from 'zod';
import { parseDuration } from './duration.ts';

const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "-" and "_" (it becomes a NATS subject token)');

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const phoneNumber = z.object({
  phoneNumberId: z.string().regex(/^\d{5,20}$/, "Meta's phone_number_id: digits only"),
  displayPhoneNumber: z.string().optional(),
  mode: z.enum(['sandbox', 'production']),
  accessToken: z.string().optional(),
});

const humanAgent = z.object({
  id: identifier,
  name: z.string().min(1),
  token: z.string().min(16, 'agent tokens need at least 16 characters'),
});

const humanTeam = z.object({
  id: identifier,
  name: z.string().optional(),
  agents: z.array(humanAgent).default([]),
});

const sessionSettings = z
  .object({
    inactivityTimeout: duration.default(parseDuration('24h')),
    aiTimeout: duration.default(parseDuration('30s')),
    handoffTimeout: duration.default(parseDuration('15m')),
    humanInactivityTimeout: duration.default(parseDuration('2h')),
    onHandoffTimeout: z.enum(['keep_waiting', 'close']).default('keep_waiting'),
    handoffTimeoutMessage: z
      .string()
      .default('Sorry for the wait: our team is busy. We will answer as soon as someone is free.'),
    closedMessage: z.string().optional(),
    historyLimit: z.number().int().min(2).max(200).default(20),
  })
  .prefault({});

const agentSettings = z
  .object({
    instructions: z.string().default('You are a helpful customer service assistant.'),
    model: z.string().default('claude-sonnet-4-5'),
    confidenceThreshold: z.number().min(0).max(1).default(0.55),
    language: z.string().default('english'),
  })
  .prefault({});

const fallbackSettings = z
  .object({
    keywords: z.array(z.string().min(1)).default(['human', 'agent', 'person']),
    maxLowConfidenceTurns: z.number().int().min(1).default(2),
    message: z.string().default('Let me connect you with our team.'),
  })
  .prefault({});

const workspace = z.object({
  id: identifier,
  name: z.string().min(1),
  phoneNumbers: z.array(phoneNumber).min(1, 'a workspace needs at least one phone number'),
  agent: agentSettings,
  knowledge: z.array(z.string()).default([]),
  fallback: fallbackSettings,
  humanTeams: z.array(humanTeam).default([]),
  sessions: sessionSettings,
});

export const botrelicConfigSchema = z
  .object({ workspaces: z.array(workspace).min(1, 'configure at least one workspace') })
  .superRefine((config, ctx) => {
    const workspaceIds = new Set<string>();
    const phoneNumberIds = new Set<string>();
    const agentTokens = new Set<string>();
    config.workspaces.forEach((ws, w) => {
      if (workspaceIds.has(ws.id)) {
        ctx.addIssue({ code: 'custom', path: ['workspaces', w, 'id'], message: `duplicate workspace id "${ws.id}"` });
      }
      workspaceIds.add(ws.id);
      ws.phoneNumbers.forEach((pn, p) => {
        if (phoneNumberIds.has(pn.phoneNumberId)) {
          ctx.addIssue({
            code: 'custom',
            path: ['workspaces', w, 'phoneNumbers', p, 'phoneNumberId'],
            message: `phone number ${pn.phoneNumberId} is configured twice: a number belongs to one workspace`,
          });
        }
        phoneNumberIds.add(pn.phoneNumberId);
        if (pn.mode === 'production' && !pn.accessToken) {
          ctx.addIssue({
            code: 'custom',
            path: ['workspaces', w, 'phoneNumbers', p, 'accessToken'],
            message: 'a production number needs the access token of its Meta app',
          });
        }
      });
      ws.humanTeams.forEach((team, t) => {
        team.agents.forEach((agent, a) => {
          if (agentTokens.has(agent.token)) {
            ctx.addIssue({
              code: 'custom',
              path: ['workspaces', w, 'humanTeams', t, 'agents', a, 'token'],
              message: 'this token is already used by another agent: every agent needs its own',
            });
          }
          agentTokens.add(agent.token);
        });
      });
    });
  });

export type BotrelicConfig = z.output<typeof botrelicConfigSchema>;
export type WorkspaceConfig = BotrelicConfig['workspaces'][number];
export type SessionSettings = WorkspaceConfig['sessions'];
