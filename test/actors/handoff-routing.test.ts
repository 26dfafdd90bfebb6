import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HandoffRule, routeHandoff } from '../../src/actors/handoff-routing.ts';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { CustomerMessage, SessionContext } from '../../src/machines/session.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

const said = (...texts: string[]): CustomerMessage[] =>
  texts.map((text, i) => ({ wamid: `w${i}`, type: 'text', text, sentAt: i }));

const rules: HandoffRule[] = [
  { reason: 'keyword', keyword: 'refund', team: 'billing' },
  { keyword: 'factura', team: 'billing' },
  { reason: 'unsupported', team: 'media' },
];

describe('routeHandoff', () => {
  it('takes the first rule whose reason and keyword both match', () => {
    const keyword = { reason: 'keyword' as const, evidence: { keyword: 'human' } };
    expect(routeHandoff(rules, keyword, said('a human about my REFUND, please'))).toBe('billing');
    expect(routeHandoff(rules, { reason: 'unsupported', evidence: {} }, said('[image]'))).toBe('media');
  });

  it('matches keywords as whole words, without case or accents, in the messages or the fallback evidence', () => {
    const lowConfidence = { reason: 'low_confidence' as const, evidence: {} };
    expect(routeHandoff(rules, lowConfidence, said('mi FÁCTURA está mal'))).toBe('billing');
    expect(routeHandoff(rules, lowConfidence, said('refunded already'))).toBeUndefined();
    expect(routeHandoff(rules, { reason: 'keyword', evidence: { keyword: 'refund' } }, said('help'))).toBe(
      'billing',
    );
  });

  it('leaves the default team (undefined) when no rule matches or there are none', () => {
    expect(routeHandoff(rules, { reason: 'loop', evidence: {} }, said('where is my order'))).toBeUndefined();
    expect(routeHandoff([], { reason: 'keyword', evidence: {} }, said('refund'))).toBeUndefined();
  });
});

describe('handoff rules in the configuration', () => {
  const workspace = (handoff: unknown) => ({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme',
        phoneNumbers: [{ phoneNumberId: '106540352242922', mode: 'sandbox' }],
        humanTeams: [{ id: 'support' }, { id: 'billing' }],
        handoff,
      },
    ],
  });

  it('accepts rules naming teams of the workspace', () => {
    const config = botrelicConfigSchema.parse(workspace({ rules: [{ keyword: 'refund', team: 'billing' }] }));
    expect(config.workspaces[0]!.handoff.rules).toEqual([{ keyword: 'refund', team: 'billing' }]);
    expect(botrelicConfigSchema.parse(workspace(undefined)).workspaces[0]!.handoff.rules).toEqual([]);
  });

  it('refuses a rule for an unknown team, and a rule with neither reason nor keyword', () => {
    const unknownTeam = botrelicConfigSchema.safeParse(
      workspace({ rules: [{ reason: 'loop', team: 'sales' }] }),
    );
    expect(unknownTeam.error?.issues.map((issue) => issue.message)).toEqual([
      `no team "sales" in this workspace's humanTeams`,
    ]);
    const empty = botrelicConfigSchema.safeParse(workspace({ rules: [{ team: 'billing' }] }));
    expect(empty.error?.issues.map((issue) => issue.message)).toEqual([
      'a rule needs a reason, a keyword or both',
    ]);
  });

  it('takes a default team from humanTeams, and the first team without one', () => {
    const named = botrelicConfigSchema.parse(workspace({ defaultTeam: 'billing' })).workspaces[0]!;
    expect(sessionSettingsFor(named).defaultTeamId).toBe('billing');
    const first = botrelicConfigSchema.parse(workspace(undefined)).workspaces[0]!;
    expect(sessionSettingsFor(first).defaultTeamId).toBe('support');
  });

  it('refuses a default team that is not one of humanTeams, naming the field', () => {
    const unknown = botrelicConfigSchema.safeParse(workspace({ defaultTeam: 'sales' }));
    expect(unknown.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      [
        'workspaces.0.handoff.defaultTeam',
        `no team "sales" in this workspace's humanTeams: the default team must be one of them`,
      ],
    ]);
  });
});

describe('handoff routing on the actor host', () => {
  let database: TestDatabase;
  let transport: TestTransport;
  let harness: TestEngine;
  let customer = 8_000_000;

  beforeAll(async () => {
    const config = structuredClone(testConfig());
    const acme = config.workspaces[0]!;
    acme.humanTeams.push({ id: 'billing', agents: [] }, { id: 'escalations', agents: [] });
    acme.handoff.rules = [
      { reason: 'ai_error', team: 'escalations' },
      { keyword: 'refund', team: 'billing' },
    ];
    // Not the first team listed: a fallback no rule matches must go to the one named.
    acme.handoff.defaultTeam = 'triage';
    acme.humanTeams.push({ id: 'triage', agents: [] });
    database = await createTestDatabase();
    transport = await connectTestTransport();
    harness = await startTestEngine({ database, transport: transport.transport, config });
  });

  afterAll(async () => {
    await harness?.stop();
    await transport?.close();
    await database?.close();
  });

  async function stored(address: SessionAddress) {
    const row = await database.db
      .selectFrom('sessions')
      .select(['state', 'snapshot'])
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', address.sessionKey)
      .executeTakeFirstOrThrow();
    const { context } = row.snapshot as { context: SessionContext };
    return { state: row.state, teamId: context.handoff?.teamId, fallback: context.history.at(-1) };
  }

  it('routes the machine’s own AI-timeout fallback by its reason', async () => {
    const address = await harness.customerSays('acme', ACME_NUMBER, String(++customer), 'hello?');
    const call = await harness.agent.nextCall();
    await harness.advance(30_000);
    expect(call.signal.aborted).toBe(true);
    expect(await stored(address)).toMatchObject({
      state: 'fallback',
      teamId: 'escalations',
      fallback: { kind: 'fallback', reason: 'ai_error', evidence: { rule: 'ai_timeout' } },
    });
  });

  it('routes the low-confidence backstop (a loop) by the words of the burst it was about', async () => {
    const waId = String(++customer);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'my parcel is late');
    await harness.agent.reply('Maybe this?', 0.3, true);
    await harness.settle();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'I want a refund');
    await harness.agent.reply('Perhaps that?', 0.3, true);
    await harness.settle();
    expect(await stored(address)).toMatchObject({
      state: 'fallback',
      teamId: 'billing',
      fallback: { kind: 'fallback', reason: 'loop', evidence: { rule: 'low_confidence_streak' } },
    });
  });

  it('routes the AI agent’s fallback, and queues it for the default team when no rule matches', async () => {
    const refund = await harness.customerSays('acme', ACME_NUMBER, String(++customer), 'human, refund');
    await harness.agent.fallback('keyword');
    await harness.settle();
    expect(await stored(refund)).toMatchObject({ state: 'fallback', teamId: 'billing' });

    const other = await harness.customerSays('acme', ACME_NUMBER, String(++customer), 'a human please');
    await harness.agent.fallback('keyword');
    await harness.settle();
    expect(await stored(other)).toMatchObject({ state: 'fallback', teamId: 'triage' });
  });
});
