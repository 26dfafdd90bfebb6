import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { buildInbox } from '../../src/inbox/build-inbox.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type SandboxEngine, startSandboxEngine } from '../../src/sandbox/sandbox-engine.ts';

const CHROMIUM = '/usr/bin/chromium';
/** The demo workspace's agent in botrelic.yaml (BOTRELIC_DEMO_AGENT_TOKEN unset). */
const DEMO_TOKEN = 'demo-agent-token-change-me';
const SCREENSHOT = new URL('../../docs/screenshots/sandbox.png', import.meta.url);
/** A second sandbox number added to the demo workspace, for the number picker. */
const SECOND_NUMBER = {
  phoneNumberId: '106540352242999',
  displayPhoneNumber: '15550783999',
  mode: 'sandbox',
} as const;

const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') {
  console.warn(
    `sandbox browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium). In CI it fails instead.`,
  );
}

/**
 * The simulator as a developer uses it, in Debian's Chromium, against the demo workspace of botrelic.yaml with
 * the real offline AI agent: a knowledge-base answer with its confidence and chunks, an escalation keyword and
 * its fallback reason, the clock-advance button bringing the handoff-timeout notice, then "take over" opening
 * the inbox on that session in another tab.
 */
describe.skipIf(!available && process.env.CI !== 'true')(`the sandbox page in Chromium (${CHROMIUM})`, () => {
  let sandbox: SandboxEngine;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;

  beforeAll(async () => {
    if (!available) throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing`);
    await buildInbox();
    const config = await loadConfig('botrelic.yaml', {});
    config.workspaces[0]!.phoneNumbers.push(SECOND_NUMBER);
    sandbox = await startSandboxEngine({
      config,
      env: readEnvironment({}),
      logger: createLogger({ level: 'silent' }),
    });
    baseUrl = await sandbox.engine.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  const business = (author: string, text: string) =>
    page.locator(`.bubble.from-business[data-author="${author}"]`, { hasText: text });

  it('chats as a customer into a handoff, advances its clock, and opens the inbox on it', async () => {
    await page.goto(`${baseUrl}/sandbox`);
    await page.getByLabel('Agent token').fill(DEMO_TOKEN);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.connection').textContent(), { timeout: 15_000 }).toBe('Live');
    expect(await page.locator('.top .workspace').textContent()).toBe('Botrelic Demo Café');

    // The message box has the focus: the customer just types.
    await page.keyboard.type('What are your opening hours?');
    await page.keyboard.press('Enter');
    await page.locator('.bubble.from-customer', { hasText: 'What are your opening hours?' }).waitFor();
    await business('ai', 'Old Town café and roastery').waitFor();
    const answer = page.locator('.decision.ai').first();
    await answer.locator('code', { hasText: 'opening-hours-and-locations.md#' }).first().waitFor();
    expect(await answer.locator('.confidence').textContent()).toMatch(/confidence\s*0\.\d\d/);
    expect(await page.locator('.states .current code').textContent()).toBe('active');
    // The sandbox plays the customer's phone: the answer is delivered, then read (two blue ticks).
    await business('ai', 'Old Town café and roastery').locator('.ticks.read').waitFor({ timeout: 15_000 });

    await page.getByLabel('Message as the customer').fill('quiero hablar con un humano');
    await page.keyboard.press('Enter');
    await business('system', 'Let me connect you with our team').waitFor();
    const fallback = page.locator('.decision.fallback').first();
    await fallback.waitFor();
    expect(await fallback.locator('.reason').textContent()).toBe('keyword');
    expect(await fallback.locator('.evidence').textContent()).toContain('humano');
    await expect.poll(() => page.locator('.states .current code').textContent()).toBe('fallback');
    expect(await page.locator('.inspector .handoff').textContent()).toContain('nobody has taken it yet');

    // From the keyboard: focus the button, press Enter. The handoff timeout (15 minutes) fires now.
    await page.getByRole('button', { name: 'Advance clock past the next timeout' }).focus();
    await page.keyboard.press('Enter');
    await business('system', 'Sorry for the wait').waitFor();
    expect(await page.locator('.notice').textContent()).toContain("Fired the session's next timeout");
    await expect
      .poll(() => page.locator('.inspector .handoff').textContent())
      .toContain('customer told to wait');
    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname });

    // Taking over happens in the inbox, in a tab of its own, signed in and on this session.
    const sessionId = (await page.locator('.session-id code').textContent())!;
    const [inbox] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('button', { name: 'Take over in the inbox ↗' }).click(),
    ]);
    await inbox.waitForLoadState();
    expect(new URL(inbox.url()).searchParams.get('session')).toBe(sessionId);
    await inbox
      .locator('.handoff-reason')
      .getByText(/Handed off/)
      .waitFor({ timeout: 15_000 });
    await inbox.getByRole('button', { name: 'Take over' }).waitFor();
    await inbox.close();
  }, 90_000);

  /** Which number the customer the page plays wrote to, and in which state their session is, as stored. */
  async function storedSessionOf(customer: string) {
    return sandbox.engine.database.db
      .selectFrom('sessions')
      .select(['phone_number_id', 'state'])
      .where('customer_wa_id', '=', customer)
      .executeTakeFirst();
  }

  const currentCustomer = async () => (await page.locator('.top .customer strong').textContent())!.slice(1);

  it('starts a new customer, taps a reply button, picks another number and sends a photo', async () => {
    // Signed in by the test before: the page is still open on the handed-off customer.
    const before = await currentCustomer();
    await page.getByRole('button', { name: 'New customer' }).click();
    expect(await page.locator('.notice').textContent()).toMatch(/You are now a new customer, \+\d+\./);
    const first = await currentCustomer();
    expect(first).not.toBe(before);
    await page.locator('.thread .empty').waitFor();
    expect(await page.locator('.session-id').textContent()).toBe('No session yet.');

    // The reply button form comes filled in with the demo's "talk to a person" button.
    const buttonForm = page.getByRole('form', { name: 'Reply button' });
    expect(await buttonForm.getByLabel('Button id').inputValue()).toBe('talk_to_human');
    await buttonForm.getByRole('button', { name: 'Tap button' }).click();
    await page.locator('.bubble.from-customer', { hasText: '↩ Talk to a person' }).waitFor();
    const pressed = page.locator('.decision.fallback').first();
    await pressed.waitFor();
    expect(await pressed.locator('.reason').textContent()).toBe('customer_request');
    await business('system', 'Let me connect you with our team').waitFor();
    expect(await storedSessionOf(first)).toEqual({ phone_number_id: '106540352242922', state: 'fallback' });

    // Another sandbox number: the page starts over as a new customer of that number.
    const picker = page.getByLabel('Sandbox number');
    expect(await picker.locator('option').allTextContents()).toEqual(['+15550783881', '+15550783999']);
    await picker.selectOption(SECOND_NUMBER.phoneNumberId);
    await expect.poll(() => page.locator('.phone-top h2').textContent()).toContain('+15550783999');
    const second = await currentCustomer();
    expect(second).not.toBe(first);

    const photoForm = page.getByRole('form', { name: 'Photo' });
    await photoForm.getByLabel('Photo caption').fill('It arrived broken');
    await photoForm.getByRole('button', { name: 'Send photo' }).click();
    await page.locator('.bubble.from-customer', { hasText: '📷 Photo It arrived broken' }).waitFor();
    const unsupported = page.locator('.decision.fallback').first();
    await unsupported.waitFor();
    expect(await unsupported.locator('.reason').textContent()).toBe('unsupported');
    expect(await unsupported.locator('.evidence').textContent()).toContain('image');
    expect(await photoForm.getByLabel('Photo caption').inputValue()).toBe('');
    await expect
      .poll(() => storedSessionOf(second))
      .toEqual({
        phone_number_id: SECOND_NUMBER.phoneNumberId,
        state: 'fallback',
      });
  }, 90_000);
});
