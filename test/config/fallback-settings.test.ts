import { describe, expect, it } from 'vitest';
import { agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { detectFallbackBeforeAnswer } from '../../src/ai/fallback-rules.ts';
import { ConfigError } from '../../src/config/load-config.ts';
import { DEFAULT_UNSUPPORTED_TYPES } from '../../src/config/workspace-config.ts';
import type { CustomerMessage } from '../../src/machines/session.ts';
import { workspaceSectionLoader } from '../support/workspace-yaml.ts';

const load = workspaceSectionLoader('fallback');

async function problemsOf(fallback: string): Promise<string[]> {
  const error = await load(fallback).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return [...(error as ConfigError).problems];
}

/** What the agents decide before answering, with the settings the YAML gave. */
async function decide(fallback: string, message: Omit<CustomerMessage, 'sentAt'>) {
  const settings = agentSettingsFor((await load(fallback)).workspaces[0]!);
  const unanswered = [{ ...message, sentAt: 0 }];
  return detectFallbackBeforeAnswer({
    unanswered,
    history: unanswered.map((m) => ({ kind: 'customer', at: 0, wamid: m.wamid, type: m.type, text: m.text })),
    settings: settings.fallback,
  });
}

describe('fallback.unsupportedTypes', () => {
  it('defaults to the media and other messages the AI cannot read', async () => {
    const config = await load('      keywords: [human]\n');
    expect(config.workspaces[0]!.fallback.unsupportedTypes).toEqual(DEFAULT_UNSUPPORTED_TYPES);
    expect(
      await decide('      keywords: [human]\n', { wamid: 'w1', type: 'sticker', text: null }),
    ).toMatchObject({ reason: 'unsupported', evidence: { rule: 'unsupported_type', type: 'sticker' } });
  });

  it('replaces the defaults: listed types hand off, others are answered', async () => {
    const yaml = '      unsupportedTypes: [audio, reaction]\n';
    expect(await decide(yaml, { wamid: 'w1', type: 'reaction', text: '👍' })).toEqual({
      reason: 'unsupported',
      evidence: { rule: 'unsupported_type', type: 'reaction', wamid: 'w1' },
    });
    expect(await decide(yaml, { wamid: 'w2', type: 'image', text: 'my receipt' })).toBeNull();
  });

  it('names the field of a bad entry', async () => {
    expect(await problemsOf('      unsupportedTypes: [image, Audio, text, image, ""]\n')).toEqual([
      'workspaces[0].fallback.unsupportedTypes[1]: must be a Meta message type, lowercase, like image, audio or sticker, got "Audio"',
      'workspaces[0].fallback.unsupportedTypes[2]: text is what the AI answers: it cannot be an unsupported type',
      'workspaces[0].fallback.unsupportedTypes[4]: must be a Meta message type, lowercase, like image, audio or sticker, got ""',
      'workspaces[0].fallback.unsupportedTypes[3]: "image" is listed twice',
    ]);
    expect(await problemsOf('      unsupportedTypes: image\n')).toEqual([
      'workspaces[0].fallback.unsupportedTypes: expected a list, got "image"',
    ]);
  });
});

describe('fallback.humanRequestIds', () => {
  it('defaults to the usual ids and titles', async () => {
    const decision = await decide('      keywords: []\n', {
      wamid: 'w1',
      type: 'interactive',
      text: 'Hablar con una persona',
    });
    expect(decision).toMatchObject({
      reason: 'customer_request',
      evidence: { button: 'Hablar con una persona' },
    });
  });

  it('replaces the defaults: a configured id hands off whatever the title says', async () => {
    const yaml = '      keywords: []\n      humanRequestIds: [menu_call_me, "Ring me back"]\n';
    expect(
      await decide(yaml, {
        wamid: 'w1',
        type: 'interactive',
        text: 'Something else',
        replyId: 'menu_call_me',
      }),
    ).toEqual({
      reason: 'customer_request',
      evidence: {
        rule: 'human_request_button',
        button: 'menu_call_me',
        replyId: 'menu_call_me',
        wamid: 'w1',
      },
    });
    expect(await decide(yaml, { wamid: 'w2', type: 'button', text: 'ring me back' })).toMatchObject({
      reason: 'customer_request',
      evidence: { button: 'Ring me back' },
    });
    expect(await decide(yaml, { wamid: 'w3', type: 'interactive', text: 'Talk to a person' })).toBeNull();
  });

  it('names the field of a bad entry', async () => {
    expect(await problemsOf('      humanRequestIds: [talk_to_human, "  ", 7]\n')).toEqual([
      'workspaces[0].fallback.humanRequestIds[1]: must not be empty',
      'workspaces[0].fallback.humanRequestIds[2]: expected text, got 7',
    ]);
    expect(await problemsOf('      humanRequestIds: [talk_to_human, call_me, talk_to_human]\n')).toEqual([
      'workspaces[0].fallback.humanRequestIds[2]: "talk_to_human" is listed twice',
    ]);
  });
});
