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
    sandbox = await startSandboxEngine({
      config: await loadConfig('botrelic.yaml', {}),
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
});
