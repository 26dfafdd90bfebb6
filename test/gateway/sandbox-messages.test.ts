import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { ACME_NUMBER, GLOBEX_NUMBER, testConfig } from '../support/test-config.ts';
import { metaFixture, valueAt } from '../whatsapp/meta-fixtures.ts';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const ACME_PRODUCTION_NUMBER = '109999999999991';

let gateway: TestGateway;

function simulate(body: unknown, options: { token?: string; workspaceId?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return fetch(`${gateway.baseUrl}/api/workspaces/${options.workspaceId ?? 'acme'}/sandbox/messages`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
}

describe('POST /api/workspaces/:workspaceId/sandbox/messages', () => {
  beforeAll(async () => {
    const config = testConfig();
    config.workspaces[0]!.phoneNumbers.push({
      phoneNumberId: ACME_PRODUCTION_NUMBER,
      mode: 'production',
      accessToken: 'production-access-token',
    });
    gateway = await startTestGateway({ config });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("wants an agent token of the workspace: none is 401, another workspace's is 404", async () => {
    const anonymous = await simulate({ from: '15550001', text: 'hi' });
    expect(anonymous.status).toBe(401);
    const foreign = await simulate({ from: '15550001', text: 'hi' }, { token: BOB });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: 'not_found' });
    // The same answer as for a workspace that does not exist: nothing is revealed.
    const missing = await simulate(
      { from: '15550001', text: 'hi' },
      { token: ALICE, workspaceId: 'initech' },
    );
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual(await (await simulate({}, { token: BOB })).json());
    expect(await gateway.countMessages()).toBe(0);
  });

  it('refuses malformed bodies with 400 saying what is wrong', async () => {
    const cases: [body: unknown, message: RegExp][] = [
      [{ text: 'hi' }, /body must have required property 'from'/],
      [{ from: '15550001' }, /either "text" or "message"/],
      [
        { from: '15550001', text: 'hi', message: { type: 'text', text: { body: 'hi' } } },
        /either "text" or "message"/,
      ],
      [{ from: '+1 555 0001', text: 'hi' }, /body\.from must match pattern/],
      [{ from: '15550001', text: '' }, /body\.text must NOT have fewer than 1 characters/],
      [
        { from: '15550001', message: { text: { body: 'hi' } } },
        /body\.message must have required property 'type'/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await simulate(body, { token: ALICE });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json(), JSON.stringify(body)).toMatchObject({
        error: 'invalid_request',
        message,
      });
    }
    const wrongShape = await simulate({ from: '15550001', message: { type: 'location' } }, { token: ALICE });
    expect(wrongShape.status).toBe(400);
    expect(await wrongShape.json()).toMatchObject({
      error: 'invalid_payload',
      message: /message\.location: required/,
    });
    expect(await gateway.countMessages()).toBe(0);
  });

  it('writes to sandbox numbers of the workspace only, naming the number it refuses', async () => {
    for (const phoneNumberId of [ACME_PRODUCTION_NUMBER, GLOBEX_NUMBER]) {
      const response = await simulate({ from: '15550001', text: 'hi', phoneNumberId }, { token: ALICE });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: 'invalid_phone_number',
        message: expect.stringContaining(phoneNumberId),
      });
    }
    expect(await gateway.countMessages()).toBe(0);
  });

  it('records a simulated text on the webhook path and the session answers it', async () => {
    const response = await simulate(
      { from: '15550002', text: 'Do you deliver on Sundays?' },
      { token: ALICE },
    );
    expect(response.status).toBe(202);
    const { wamid, sessionKey } = (await response.json()) as { wamid: string; sessionKey: string };
    expect(sessionKey).toBe(`${ACME_NUMBER}-15550002`);
    await gateway.settle();
    const row = await gateway.database.db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('wamid', '=', wamid)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ type: 'text', body: 'Do you deliver on Sundays?', session_key: sessionKey });
    expect(row.applied_at).not.toBeNull();
    expect(gateway.agent.calls.at(-1)!.unanswered.map((message) => message.text)).toEqual([
      'Do you deliver on Sundays?',
    ]);
  });

  it('takes a full Meta message object, deduplicated on its id like a webhook', async () => {
    const message = valueAt(metaFixture('interactive-button-reply.json'), [
      'entry',
      0,
      'changes',
      0,
      'value',
      'messages',
      0,
    ]) as Record<string, unknown>;
    const calls = gateway.agent.calls.length;
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await simulate({ from: '15550003', message }, { token: ALICE });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ wamid: message.id });
      await gateway.settle();
    }
    const rows = await gateway.database.db
      .selectFrom('messages')
      .select(['type', 'body', 'customer_wa_id'])
      .where('wamid', '=', message.id as string)
      .execute();
    expect(rows).toEqual([{ type: 'interactive', body: 'Talk to a person', customer_wa_id: '15550003' }]);
    expect(gateway.agent.calls.length - calls).toBe(1);
  });
});
