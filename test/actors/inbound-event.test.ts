import { describe, expect, it } from 'vitest';
import { toCustomerMessage } from '../../src/actors/inbound-event.ts';
import type { InboundMessage } from '../../src/persistence/session-store.ts';
import { metaFixture } from '../whatsapp/meta-fixtures.ts';

/** A stored inbound row holding the fixture's message object as its payload, as the gateway stores it. */
function storedRow(fixture: string, body: string | null): InboundMessage {
  const webhook = metaFixture(fixture) as {
    entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
  };
  const payload = webhook.entry[0]!.changes[0]!.value.messages[0]!;
  return {
    id: '1',
    workspaceId: 'demo',
    sessionKey: '106540352242922-16505551234',
    phoneNumberId: '106540352242922',
    customerWaId: '16505551234',
    wamid: String(payload.id),
    type: String(payload.type),
    body,
    customerName: null,
    payload,
    sentAt: 1_000,
    receivedAt: 2_000,
  };
}

describe('toCustomerMessage', () => {
  it.each([
    ['interactive-button-reply.json', 'Talk to a person', 'talk_to_human'],
    ['button-message.json', 'Talk to a person', 'talk_to_human'],
  ])('carries the reply id of %s beside its title', (fixture, title, replyId) => {
    expect(toCustomerMessage(storedRow(fixture, title), 60_000)).toMatchObject({ text: title, replyId });
  });

  it('carries the id of a chosen list row', () => {
    const row = storedRow('interactive-list-reply.json', 'a row');
    const listReply = (row.payload as { interactive: { list_reply: { id: string } } }).interactive.list_reply;
    expect(toCustomerMessage(row, 60_000).replyId).toBe(listReply.id);
  });

  it.each(['text-message.json', 'image-message.json', 'reaction-message.json'])(
    'gives %s no reply id',
    (fixture) => {
      expect(toCustomerMessage(storedRow(fixture, 'hi'), 60_000)).not.toHaveProperty('replyId');
    },
  );

  it('leaves the id out of a payload it cannot read, rather than failing the message', () => {
    const row = { ...storedRow('interactive-button-reply.json', 'Talk'), payload: { type: 'interactive' } };
    expect(toCustomerMessage(row, 60_000)).toEqual({
      wamid: row.wamid,
      type: 'interactive',
      text: 'Talk',
      sentAt: 1_000,
    });
  });
});
