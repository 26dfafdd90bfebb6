import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import { type CustomerMessage, type SessionEvent, sessionMachine } from '../../src/machines/session.ts';
import { testConfig } from '../support/test-config.ts';

/** Meta redelivering an outage's backlog: stale messages are recorded, and answered once per conversation. */
const settings = sessionSettingsFor(testConfig().workspaces[0]!);
const HOUR = 3_600_000;
const T = 10 * HOUR;

function startSession() {
  const actor = createActor(sessionMachine, {
    input: {
      sessionId: 's',
      workspaceId: 'acme',
      phoneNumberId: '1',
      customer: { waId: '2', name: null },
      settings,
      startedAt: T,
    },
  });
  actor.start();
  return actor;
}

const message = (wamid: string, sentAt: number, stale: boolean): CustomerMessage => ({
  wamid,
  type: 'text',
  text: wamid,
  sentAt,
  ...(stale ? { stale: true } : {}),
});

const reply: SessionEvent = {
  type: 'ai.replied',
  at: T,
  text: 'ok',
  confidence: 0.9,
  lowConfidence: false,
  chunks: [],
};

describe('stale customer messages', () => {
  it('get the conversation its answer when nothing was answered since they were sent', () => {
    const actor = startSession();
    actor.send({ type: 'customer.message', at: T, message: message('late', T - 3 * HOUR, true) });
    expect(actor.getSnapshot().value).toBe('ai_responding');
  });

  it('are recorded without another answer once a reply came after them, and wait for the next turn', () => {
    const actor = startSession();
    actor.send({ type: 'customer.message', at: T, message: message('late-1', T - 3 * HOUR, true) });
    actor.send(reply);
    actor.send({
      type: 'customer.message',
      at: T + 1,
      message: message('late-2', T - 3 * HOUR + 60_000, true),
    });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('active');
    expect(snapshot.context.history.map((entry) => entry.kind)).toEqual(['customer', 'ai', 'customer']);
    expect(snapshot.context.unanswered.map((unanswered) => unanswered.wamid)).toEqual(['late-2']);

    actor.send({ type: 'customer.message', at: T + 2, message: message('fresh', T + 2, false) });
    expect(actor.getSnapshot().value).toBe('ai_responding');
    expect(actor.getSnapshot().context.unanswered.map((unanswered) => unanswered.wamid)).toEqual([
      'late-2',
      'fresh',
    ]);
  });

  it('are answered when sent after the last reply, and fresh messages always are', () => {
    const actor = startSession();
    actor.send({ type: 'customer.message', at: T, message: message('first', T, false) });
    actor.send(reply);
    actor.send({ type: 'customer.message', at: T + 2 * HOUR, message: message('later', T + HOUR, true) });
    expect(actor.getSnapshot().value).toBe('ai_responding');

    const crossing = startSession();
    crossing.send({ type: 'customer.message', at: T, message: message('first', T, false) });
    crossing.send(reply);
    crossing.send({ type: 'customer.message', at: T + 1, message: message('crossed', T - 1, false) });
    expect(crossing.getSnapshot().value).toBe('ai_responding');
  });
});
