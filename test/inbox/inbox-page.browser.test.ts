import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { createOfflineAgent } from '../../src/ai/offline-agent.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { buildInbox } from '../../src/inbox/build-inbox.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { type FakeGraphApi, startFakeGraphApi } from '../support/fake-graph-api.ts';
import {
  postWebhook,
  signed,
  statusWebhook,
  textMessagesWebhook,
  WEBHOOK_ENV,
} from '../support/meta-webhook.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

const CHROMIUM = '/usr/bin/chromium';
const ACCESS_TOKEN = 'EAAG-test-access-token-of-acme';
const AGENT_TOKEN = 'alice-token-0123456789';
const CUSTOMER = '4915123456789';
const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);

const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') {
  console.warn(
    `inbox browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium). In CI it fails instead.`,
  );
}

/**
 * The whole handoff as an agent sees it, in Debian's Chromium: a signed webhook with an escalation keyword, the
 * session appearing in the open inbox page, takeover and reply, the reply reaching the (fake) Graph API in the
 * same thread, the customer's answer appearing live, the reply's tick turning `read` when Meta says so, and
 * the close. Nothing in it reloads the page.
 */
describe.skipIf(!available && process.env.CI !== 'true')(`the inbox page in Chromium (${CHROMIUM})`, () => {
  let database: TestDatabase;
  let transport: TestTransport;
  let harness: TestEngine;
  let graph: FakeGraphApi;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let wamid = 0;

  beforeAll(async () => {
    if (!available) throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing`);
    await buildInbox();
    graph = await startFakeGraphApi({ accessToken: ACCESS_TOKEN });
    const config = botrelicConfigSchema.parse({
      workspaces: [
        {
          id: 'acme',
          name: 'Acme Store',
          phoneNumbers: [{ phoneNumberId: ACME_NUMBER, mode: 'production', accessToken: ACCESS_TOKEN }],
          fallback: { keywords: ['human', 'person'], message: 'Let me connect you with our team.' },
          humanTeams: [
            { id: 'support', agents: [{ id: 'alice', name: 'Alice', token: AGENT_TOKEN }] },
            { id: 'billing', agents: [{ id: 'dave', name: 'Dave', token: 'dave-token-01234567890' }] },
          ],
          handoff: { rules: [{ keyword: 'refund', team: 'billing' }] },
        },
      ],
    });
    database = await createTestDatabase();
    transport = await connectTestTransport();
    // The real offline AI agent: its escalation keyword rule fires before any knowledge is searched.
    const agent = createOfflineAgent({
      knowledge: { search: async () => [] },
      settingsFor: () => agentSettingsFor(config.workspaces[0]!),
    });
    harness = await startTestEngine({
      database,
      transport: transport.transport,
      config,
      agent,
      env: { ...WEBHOOK_ENV, WHATSAPP_GRAPH_URL: graph.url },
    });
    baseUrl = await harness.engine.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 680 } });
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
    await transport?.close();
    await database?.close();
    await graph?.close();
  });

  async function customerWrites(text: string, from = CUSTOMER) {
    const webhook = textMessagesWebhook([
      { from, wamid: `wamid.browser${++wamid}`, text, sentAt: harness.clock.now() },
    ]);
    const response = await postWebhook(baseUrl, signed(webhook));
    expect(response.status).toBe(200);
  }

  it('takes a handed-off customer from webhook to closed, live, without a reload', async () => {
    await page.goto(`${baseUrl}/inbox`);
    await page.getByLabel('Agent token').fill(AGENT_TOKEN);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.connection').textContent()).toBe('Live');
    // A reload would lose this.
    await page.evaluate('window.notReloaded = true');

    // Billing's queue is another team's for Alice: shown, but apart from her own.
    await customerWrites('I need a human for my refund', '4915199999999');
    const billing = page.locator('#waiting-billing-title + ul [data-session-id]');
    await billing.first().waitFor();
    expect(await page.locator('#waiting-billing-title').textContent()).toMatch(/^Other team · billing/);
    expect(await page.locator('#waiting-support-title').textContent()).toMatch(/^Waiting · support\s*0/);

    await customerWrites('I want to talk to a human about my order');
    const waiting = page.locator('#waiting-support-title + ul [data-session-id]');
    await waiting.first().waitFor();
    expect(await billing.count()).toBe(1);
    // Alice's own team's queue comes before the lists of taken sessions; other teams' after them.
    const titles = await page.locator('.lists h2').evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(titles).toEqual(['waiting-support-title', 'mine-title', 'others-title', 'waiting-billing-title']);
    expect(await waiting.first().textContent()).toContain('asked for a person');
    await waiting.first().click();
    await page.locator('.handoff-reason').getByText('Handed off: asked for a person').waitFor();
    expect(await page.locator('.handoff-reason').textContent()).toContain('human');
    await page.screenshot({ path: new URL('inbox-waiting.png', SCREENSHOTS).pathname });

    await page.getByRole('button', { name: 'Take over' }).click();
    const replyBox = page.getByLabel(/Reply to the customer/);
    await replyBox.waitFor();
    // Taking over puts the cursor in the reply box (it gets focus once it has rendered): fails if it never does.
    await page.waitForFunction("document.activeElement?.id === 'reply-text'", undefined, { timeout: 5_000 });
    await page.keyboard.type('Hi, this is Alice. What is your order number?');
    await page.keyboard.press('Enter');

    const textsSent = () =>
      graph
        .messagesTo(CUSTOMER)
        .map((request) => (request.body?.text as { body?: string } | undefined)?.body);
    // The sender paces messages to one customer on the engine's (manual) clock: let time pass.
    for (let second = 0; !textsSent().includes('Hi, this is Alice. What is your order number?'); second++) {
      if (second > 60)
        throw new Error(`the reply never reached the Graph API; sent: ${textsSent().join(' | ')}`);
      await harness.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const reply = graph.messagesTo(CUSTOMER).at(-1)!;
    expect(reply).toMatchObject({ phoneNumberId: ACME_NUMBER, authorization: `Bearer ${ACCESS_TOKEN}` });
    expect(reply.body).toMatchObject({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text' });

    await customerWrites('It is BR-10234, thanks!');
    await page.locator('.transcript').getByText('It is BR-10234, thanks!').waitFor();
    await page.screenshot({ path: new URL('inbox-conversation.png', SCREENSHOTS).pathname });

    // Meta reports the reply read: its tick changes in the open transcript, with no session change behind it.
    const replyTicks = page
      .locator('.transcript li', { hasText: 'What is your order number?' })
      .locator('small');
    await expect.poll(() => replyTicks.textContent()).toContain('· sent');
    const { wamid: replyWamid } = await database.db
      .selectFrom('messages')
      .select('wamid')
      .where('direction', '=', 'out')
      .where('body', '=', 'Hi, this is Alice. What is your order number?')
      .executeTakeFirstOrThrow();
    const read = await postWebhook(
      baseUrl,
      signed(statusWebhook('status-read.json', { wamid: replyWamid! })),
    );
    expect(read.status).toBe(200);
    await expect.poll(() => replyTicks.textContent()).toContain('· read');

    await page.getByRole('button', { name: 'Close session' }).click();
    await page.locator('.state-closed').waitFor();
    const session = await database.db
      .selectFrom('sessions')
      .select(['state', 'closed_at'])
      .where('customer_wa_id', '=', CUSTOMER)
      .executeTakeFirstOrThrow();
    expect(session.state).toBe('closed');
    expect(session.closed_at).not.toBeNull();
    expect(await page.evaluate('window.notReloaded')).toBe(true);
  });
});
