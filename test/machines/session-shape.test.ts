import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { getAdjacencyMap } from 'xstate/graph';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import {
  SESSION_MACHINE_VERSION,
  type SessionContext,
  type SessionEvent,
  sessionMachine,
} from '../../src/machines/session.ts';
import { testConfig } from '../support/test-config.ts';

/**
 * Deploys keep sessions only if a change to what a snapshot holds comes with a version bump, an upgrade and
 * fixtures. This pins the shape of persisted snapshots to SESSION_MACHINE_VERSION: the states and invoked
 * actors a snapshot names, and every field path (with its JSON type) of the contexts and AI-call inputs the
 * machine reaches. Transitions, guards and descriptions are left out: they decide what happens next, not how a
 * stored snapshot reads. Each version's shape is kept in test/fixtures/machine-shapes/v<version>.json.
 */
const SHAPES = new URL('../fixtures/machine-shapes/', import.meta.url);
const settings = { ...sessionSettingsFor(testConfig().workspaces[0]!), closedMessage: 'Bye!' };
const LATE = Number.MAX_SAFE_INTEGER;

/** Every kind of event with every optional field the machine keeps, so every field path shows up. */
const events: SessionEvent[] = [
  { type: 'customer.message', at: 1, message: { wamid: 'a', type: 'text', text: 'hi', sentAt: 1 } },
  {
    type: 'customer.message',
    at: 2,
    message: {
      wamid: 'b',
      type: 'interactive',
      text: 'Talk to a person',
      sentAt: 0,
      replyId: 'x',
      stale: true,
    },
    customerName: 'Ana',
  },
  {
    type: 'ai.replied',
    at: 3,
    text: 'ok',
    confidence: 0.9,
    lowConfidence: false,
    chunks: ['c#1'],
    evidence: { rule: 'answered', weak: false, threshold: 0.55, hits: [{ id: 'c#1', score: 0.9 }] },
  },
  { type: 'ai.replied', at: 3, text: 'hm', confidence: 0.2, lowConfidence: true, chunks: [] },
  { type: 'ai.fallback', at: 4, reason: 'keyword', evidence: { rule: 'keyword', keyword: 'human' } },
  { type: 'agent.takeover', at: 5, agentId: 'alice' },
  { type: 'agent.message', at: 6, agentId: 'alice', text: 'Hello' },
  { type: 'agent.template', at: 6, agentId: 'alice', template: { name: 't', language: 'en_US' } },
  { type: 'agent.release', at: 7, agentId: 'alice' },
  { type: 'agent.close', at: 8, agentId: 'alice' },
  { type: 'message.status', at: 9, wamid: 'o', status: 'failed', error: { code: 131026, title: 'x' } },
  { type: 'session.timeout', at: LATE },
];

function addShape(value: unknown, path: string, shape: Set<string>): void {
  if (value === null || typeof value !== 'object') {
    shape.add(`${path}: ${value === null ? 'null' : typeof value}`);
  } else if (Array.isArray(value)) {
    shape.add(`${path}: array`);
    for (const item of value) addShape(item, `${path}[]`, shape);
  } else {
    // Union members (history entries, timers) are told apart by their `kind`.
    const kind = 'kind' in value && typeof value.kind === 'string' ? `<${value.kind}>` : '';
    shape.add(`${path}${kind}: object`);
    // A decision's evidence (an answer's or a fallback's) is the deciding rule's own record, free-form by design.
    if (path.endsWith('.evidence')) return;
    for (const [key, field] of Object.entries(value)) addShape(field, `${path}${kind}.${key}`, shape);
  }
}

function stateTree(node: AnyStateNode): unknown {
  return {
    key: node.key,
    type: node.type,
    initial: node.initial?.target.map((target) => target.key) ?? null,
    invoke: node.invoke.map((invoke) => ({ id: invoke.id, src: String(invoke.src) })),
    states: Object.values(node.states).map((child) => stateTree(child as AnyStateNode)),
  };
}

/** The field paths of one snapshot: its context and, while the AI composes, the AI call's input. */
function snapshotShape(snapshot: unknown): Set<string> {
  const { context, children } = snapshot as {
    context: SessionContext;
    children: Record<string, { getSnapshot(): { input?: unknown } } | undefined>;
  };
  const shape = new Set<string>();
  addShape(context, 'context', shape);
  const input = children.generateReply?.getSnapshot().input;
  if (input !== undefined) addShape(input, 'children.generateReply.input', shape);
  return shape;
}

function currentShape() {
  // Snapshots count as different while their state or field paths differ: the walk stops once nothing new shows.
  const reached = getAdjacencyMap(sessionMachine, {
    input: {
      sessionId: 's',
      workspaceId: 'w',
      phoneNumberId: '1',
      customer: { waId: '2', name: null },
      settings,
      startedAt: 0,
    },
    events,
    serializeState: (snapshot) => JSON.stringify([snapshot.value, [...snapshotShape(snapshot)].sort()]),
  });
  const fields = new Set<string>();
  for (const { state } of Object.values(reached)) for (const field of snapshotShape(state)) fields.add(field);
  return { states: stateTree(sessionMachine.root), fields: [...fields].sort() };
}

describe('the machine version', () => {
  it('is pinned to the shape of the snapshots it persists', () => {
    const file = new URL(`v${SESSION_MACHINE_VERSION}.json`, SHAPES);
    const shape = currentShape();
    if (!existsSync(file) && process.env.WRITE_MACHINE_SHAPE === '1') {
      writeFileSync(file, `${JSON.stringify(shape, null, 2)}\n`);
    }
    expect(
      existsSync(file),
      `no pinned shape for machine version ${SESSION_MACHINE_VERSION}: once its upgrade and fixtures are written, run this test with WRITE_MACHINE_SHAPE=1 to pin it`,
    ).toBe(true);
    expect(
      shape,
      `the shape of persisted session snapshots changed without a version bump. Bump SESSION_MACHINE_VERSION (src/machines/session.ts), write the upgrade from version ${SESSION_MACHINE_VERSION} in session-snapshot.ts, add v${SESSION_MACHINE_VERSION + 1}-<state>.json fixtures of every state to test/fixtures/snapshots/, then pin the new shape (WRITE_MACHINE_SHAPE=1). Never edit a pinned shape`,
    ).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});
