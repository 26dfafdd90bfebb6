import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import {
  type CustomerMessage,
  SERVICE_WINDOW_MS,
  type SendParams,
  type SessionEvent,
  type SessionMachineSettings,
  sessionMachine,
} from '../../src/machines/session.ts';
import { testConfig } from '../support/test-config.ts';

/**
 * The machine alone, for what the model-based suite's abstract paths do not pin down: message order, what is
 * left for the AI after a handoff, which deadline a customer message moves, the evidence and close reasons.
 * `send` is the host's seam; here it only records what the session asked to send.
 */
const settings = sessionSettingsFor(testConfig().workspaces[0]!);
const MINUTE = 60_000;
const T = 1_000_000_000;

function startSession(overrides: Partial<SessionMachineSettings> = {}) {
  const sent: SendParams[] = [];
  const actor = createActor(
    sessionMachine.provide({ actions: { send: (_, params) => void sent.push(params) } }),
    {
      input: {
        sessionId: 's',
        workspaceId: 'acme',
        phoneNumberId: '1',
        customer: { waId: '2', name: null },
        settings: { ...settings, ...overrides },
        startedAt: T,
      },
    },
  );
  actor.start();
  return { actor, sent };
}

const text = (wamid: string, sentAt: number, body = wamid): CustomerMessage => ({
  wamid,
  type: 'text',
  text: body,
  sentAt,
});
const says = (at: number, message: CustomerMessage): SessionEvent => ({
  type: 'customer.message',
  at,
  message,
});
const reply = (at: number, lowConfidence = false, evidence?: Record<string, unknown>): SessionEvent => ({
  type: 'ai.replied',
  at,
  text: 'ok',
  confidence: lowConfidence ? 0.3 : 0.9,
  lowConfidence,
  chunks: [],
  ...(evidence ? { evidence } : {}),
});
const keywordFallback = (at: number): SessionEvent => ({
  type: 'ai.fallback',
  at,
  reason: 'keyword',
  evidence: { rule: 'keyword', keyword: 'human' },
});

describe('customer messages in Meta timestamp order', () => {
  it('puts a message sent earlier but applied later before the turn’s later messages, with its sentAt', () => {
    const { actor } = startSession();
    actor.send(says(T + 5_000, text('third', T + 3_000)));
    actor.send(says(T + 6_000, text('first', T + 1_000)));
    actor.send(says(T + 7_000, text('second', T + 2_000)));
    const { context } = actor.getSnapshot();
    expect(context.history).toMatchObject([
      { kind: 'customer', wamid: 'first', sentAt: T + 1_000, at: T + 6_000 },
      { kind: 'customer', wamid: 'second', sentAt: T + 2_000, at: T + 7_000 },
      { kind: 'customer', wamid: 'third', sentAt: T + 3_000, at: T + 5_000 },
    ]);
    expect(context.unanswered.map((message) => message.wamid)).toEqual(['first', 'second', 'third']);
  });

  it('never moves a message before a reply already sent: it opens the next turn', () => {
    const { actor } = startSession();
    actor.send(says(T + 5_000, text('question', T + 3_000)));
    actor.send(reply(T + 6_000));
    actor.send(says(T + 7_000, text('late', T + 1_000)));
    const { context } = actor.getSnapshot();
    expect(context.history.map((entry) => entry.kind)).toEqual(['customer', 'ai', 'customer']);
    expect(context.unanswered.map((message) => message.wamid)).toEqual(['late']);
  });
});

describe('an agent hands the session back', () => {
  it('leaves what the customer said to the person out of the AI’s next answer, and in its history', () => {
    const { actor } = startSession();
    actor.send(says(T, text('human-please', T, 'a human please')));
    actor.send(keywordFallback(T + 1));
    actor.send(says(T + 2, text('in-queue', T + 2, 'is an agent there?')));
    actor.send({ type: 'agent.takeover', at: T + 3, agentId: 'alice' });
    actor.send(says(T + 4, text('to-agent', T + 4, 'can the agent check order 12?')));
    expect(actor.getSnapshot().context.unanswered).toEqual([]);
    actor.send({ type: 'agent.release', at: T + 5, agentId: 'alice' });
    actor.send(says(T + 6, text('after', T + 6, 'do you sell gift cards?')));
    const { value, context } = actor.getSnapshot();
    expect(value).toBe('ai_responding');
    expect(context.unanswered.map((message) => message.wamid)).toEqual(['after']);
    expect(context.history.filter((entry) => entry.kind === 'customer').map((entry) => entry.wamid)).toEqual([
      'human-please',
      'in-queue',
      'to-agent',
      'after',
    ]);
  });
});

describe('the inactivity deadline', () => {
  function toldToWait() {
    const session = startSession();
    session.actor.send(says(T, text('help', T)));
    session.actor.send(keywordFallback(T));
    session.actor.send({ type: 'session.timeout', at: T + settings.handoffTimeoutMs });
    return session;
  }

  it('moves with every customer message once the customer was told to wait', () => {
    const { actor } = toldToWait();
    const later = T + settings.handoffTimeoutMs + 40 * MINUTE;
    expect(actor.getSnapshot().context.timer?.kind).toBe('inactivity');
    actor.send(says(later, text('still there?', later)));
    expect(actor.getSnapshot().context.timer).toEqual({
      kind: 'inactivity',
      at: later + settings.inactivityTimeoutMs,
    });
    // The first deadline passes: still waiting.
    actor.send({ type: 'session.timeout', at: T + settings.handoffTimeoutMs + settings.inactivityTimeoutMs });
    expect(actor.getSnapshot().value).toBe('fallback');
    actor.send({ type: 'session.timeout', at: later + settings.inactivityTimeoutMs });
    expect(actor.getSnapshot().context.closedReason).toBe('inactivity');
  });

  it('does not move the handoff deadline: writing does not put the customer back in the queue', () => {
    const { actor } = startSession();
    actor.send(says(T, text('help', T)));
    actor.send(keywordFallback(T));
    actor.send(says(T + MINUTE, text('hello?', T + MINUTE)));
    expect(actor.getSnapshot().context.timer).toEqual({ kind: 'handoff', at: T + settings.handoffTimeoutMs });
  });

  it('moves with a stale message recorded in `active` without an answer', () => {
    const { actor } = startSession();
    actor.send(says(T, text('first', T)));
    actor.send(reply(T + 1_000));
    const arrived = T + 30 * MINUTE;
    actor.send(says(arrived, { ...text('late', T - 3 * 60 * MINUTE), stale: true }));
    expect(actor.getSnapshot().value).toBe('active');
    expect(actor.getSnapshot().context.timer).toEqual({
      kind: 'inactivity',
      at: arrived + settings.inactivityTimeoutMs,
    });
  });
});

describe('answers', () => {
  it('records the answer with the evidence the agent gave, and without any when it gave none', () => {
    const evidence = {
      rule: 'answered',
      weak: false,
      threshold: 0.55,
      hits: [{ id: 'hours.md#0', score: 0.8 }],
    };
    const { actor } = startSession();
    actor.send(says(T, text('a', T)));
    actor.send(reply(T + 1, false, evidence));
    actor.send(says(T + 2, text('b', T + 2)));
    actor.send(reply(T + 3));
    const answers = actor.getSnapshot().context.history.filter((entry) => entry.kind === 'ai');
    expect(answers).toEqual([
      { kind: 'ai', at: T + 1, text: 'ok', confidence: 0.9, chunks: [], evidence },
      { kind: 'ai', at: T + 3, text: 'ok', confidence: 0.9, chunks: [] },
    ]);
  });
});

describe('fallbacks the machine decides', () => {
  it('names the rule of the low-confidence streak (a loop) and of the AI timeout', () => {
    const streak = startSession();
    streak.actor.send(says(T, text('a', T)));
    streak.actor.send(reply(T + 1, true));
    streak.actor.send(says(T + 2, text('b', T + 2)));
    streak.actor.send(reply(T + 3, true));
    expect(streak.actor.getSnapshot().context.history.at(-1)).toMatchObject({
      kind: 'fallback',
      reason: 'loop',
      evidence: { rule: 'low_confidence_streak', lowConfidenceTurns: 2 },
    });

    const timeout = startSession();
    timeout.actor.send(says(T, text('a', T)));
    timeout.actor.send({ type: 'session.timeout', at: T + settings.aiTimeoutMs });
    expect(timeout.actor.getSnapshot().context.history.at(-1)).toMatchObject({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { rule: 'ai_timeout', timeoutMs: settings.aiTimeoutMs },
    });
  });
});

describe('closing', () => {
  function taken(overrides: Partial<SessionMachineSettings> = {}) {
    const session = startSession(overrides);
    session.actor.send(says(T, text('help', T)));
    session.actor.send(keywordFallback(T));
    session.actor.send({ type: 'agent.takeover', at: T + 1, agentId: 'alice' });
    session.sent.length = 0;
    return session;
  }

  it('tells the agent’s silence from the customer’s', () => {
    const { actor } = taken();
    actor.send({ type: 'session.timeout', at: T + 1 + settings.humanInactivityTimeoutMs });
    expect(actor.getSnapshot().context.closedReason).toBe('human_inactivity');
  });

  it('sends the workspace’s closed message inside the 24-hour window, and records it', () => {
    const goodbye = 'Thanks for writing!';
    const byAgent = taken({ closedMessage: goodbye });
    byAgent.actor.send({ type: 'agent.close', at: T + 2, agentId: 'alice' });
    expect(byAgent.sent).toEqual([{ author: 'system', text: goodbye }]);
    expect(byAgent.actor.getSnapshot().context.history.at(-1)).toEqual({
      kind: 'system',
      at: T + 2,
      text: goodbye,
    });

    const byTimeout = taken({ closedMessage: goodbye });
    byTimeout.actor.send({ type: 'session.timeout', at: T + 1 + settings.humanInactivityTimeoutMs });
    expect(byTimeout.sent).toEqual([{ author: 'system', text: goodbye }]);
  });

  it('sends nothing outside the window, or when the workspace has no closed message', () => {
    const late = taken({ closedMessage: 'Bye', humanInactivityTimeoutMs: SERVICE_WINDOW_MS });
    late.actor.send({ type: 'session.timeout', at: T + 1 + SERVICE_WINDOW_MS });
    expect(late.actor.getSnapshot().value).toBe('closed');
    expect(late.sent).toEqual([]);

    const none = taken({ closedMessage: null });
    none.actor.send({ type: 'agent.close', at: T + 2, agentId: 'alice' });
    expect(none.sent).toEqual([]);
    expect(none.actor.getSnapshot().context.history.at(-1)?.kind).not.toBe('system');
  });
});
