import { describe, expect, it } from 'vitest';
import { type HandoffRule, routeHandoff } from '../../src/actors/handoff-routing.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { CustomerMessage } from '../../src/machines/session.ts';

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
});
