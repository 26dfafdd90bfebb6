import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgresReachable } from '../support/database.ts';
import { answerAndExpectExactlyOnce } from '../support/exactly-once.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, type TextMessage, textMessagesWebhook } from '../support/meta-webhook.ts';
import { testConfig } from '../support/test-config.ts';

/**
 * DESIGN.md §4.1: nothing acknowledged is lost. Meta keeps sending while the database goes away and comes
 * back; it retries whatever was not answered 200, as it does for days. Afterwards every message is stored
 * once, applied once, and every conversation gets one answer for its burst.
 */
const postgres = await isPostgresReachable();
const CUSTOMERS = Array.from({ length: 8 }, (_, i) => String(4917600000000 + i));
const WORKERS = 4;

type Phase = 'up' | 'cutting' | 'down' | 'restoring' | 'restored';

// In CI a missing Postgres is a failure (the gateway harness throws), never a skip.
describe.skipIf(!postgres && process.env.CI !== 'true')(
  'the webhook while the database goes away (Postgres only: an embedded PGlite cannot be taken away from its own process)',
  () => {
    let gateway: TestGateway;

    beforeAll(async () => {
      const config = testConfig();
      config.workspaces[0]!.sessions.historyLimit = 200;
      gateway = await startTestGateway({ config });
    });

    afterAll(async () => {
      await gateway?.database.setReachable?.(true);
      await gateway?.close();
    });

    it('answers 503 while it is down, then recovers, and processes every acknowledged message exactly once', async () => {
      let phase: Phase = 'up';
      let stopped = false;
      let sequence = 0;
      const acknowledged: TextMessage[] = [];
      const answers: { started: Phase; ended: Phase; status: number }[] = [];

      /** Meta: delivers one message, retrying with a short backoff until it is answered 200. */
      async function deliver(message: TextMessage): Promise<void> {
        for (;;) {
          const started = phase;
          const response = await postWebhook(gateway.baseUrl, signed(textMessagesWebhook([message])));
          answers.push({ started, ended: phase, status: response.status });
          if (response.status === 200) {
            acknowledged.push(message);
            return;
          }
          await sleep(10);
        }
      }

      async function worker(): Promise<void> {
        while (!stopped) {
          const n = sequence++;
          await deliver({
            from: CUSTOMERS[n % CUSTOMERS.length]!,
            wamid: `wamid.outage-${n}`,
            text: `message ${n}`,
            sentAt: gateway.clock.now() - 60_000 + n,
          });
        }
      }

      async function until(condition: () => boolean): Promise<void> {
        while (!condition()) await sleep(5);
      }

      const traffic = Promise.all(Array.from({ length: WORKERS }, worker));
      await until(() => acknowledged.length >= 40);
      phase = 'cutting';
      await gateway.database.setReachable!(false);
      phase = 'down';
      await until(() => answers.filter((answer) => answer.started === 'down').length >= 60);
      const readyWhileDown = (await fetch(`${gateway.baseUrl}/readyz`)).status;
      phase = 'restoring';
      await gateway.database.setReachable!(true);
      phase = 'restored';
      const before = acknowledged.length;
      await until(() => acknowledged.length >= before + 40);
      stopped = true;
      await traffic;

      // While the database was away, every request got 503 (none was acknowledged, none failed otherwise).
      const duringOutage = answers.filter((answer) => answer.started === 'down' && answer.ended === 'down');
      expect(duringOutage.length).toBeGreaterThanOrEqual(40);
      expect(new Set(duringOutage.map((answer) => answer.status))).toEqual(new Set([503]));
      expect(answers.every((answer) => answer.status === 200 || answer.status === 503)).toBe(true);
      expect(readyWhileDown).toBe(503);

      // Inbound rows whose notice was lost while the host could not read them are found by the sweeper.
      await gateway.settle();
      await gateway.advance(10_000);
      await sleep(50);
      const { answered, states } = await answerAndExpectExactlyOnce(gateway, acknowledged, CUSTOMERS);
      expect(acknowledged).toHaveLength(sequence);
      expect([...states.values()]).toEqual(CUSTOMERS.map(() => 'active'));
      const sent = new Set(acknowledged.map((message) => message.wamid));
      console.log(
        `outage: ${sent.size} messages acknowledged, ${answers.filter((a) => a.status === 503).length} answered 503 ` +
          `and retried, ${answered} conversations answered once each`,
      );
    });
  },
);
