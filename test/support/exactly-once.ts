import { expect } from 'vitest';
import type { SessionContext } from '../../src/machines/session.ts';
import type { TestGateway } from './gateway.ts';
import type { TextMessage } from './meta-webhook.ts';

/**
 * DESIGN.md §4.1 and §4.2 after the database went away and came back: answers every conversation still waiting
 * for the (scripted) AI, then checks that each message acknowledged 200 is stored once and applied once, that
 * no other message is stored, and that each customer's conversation got exactly one AI answer. Returns how many
 * conversations were answered and each customer's session state.
 */
export async function answerAndExpectExactlyOnce(
  gateway: TestGateway,
  acknowledged: readonly TextMessage[],
  customers: readonly string[],
): Promise<{ answered: number; states: Map<string, string> }> {
  let answered = 0;
  while (gateway.agent.waiting > 0) {
    await gateway.agent.reply('Thanks, we are on it.');
    await gateway.settle();
    answered++;
  }

  const sent = new Set(acknowledged.map((message) => message.wamid));
  expect(sent.size, 'each acknowledged message once').toBe(acknowledged.length);
  const rows = await gateway.database.db
    .selectFrom('messages')
    .select(['wamid', 'applied_at'])
    .where('workspace_id', '=', 'acme')
    .where('direction', '=', 'in')
    .execute();
  expect(rows).toHaveLength(sent.size);
  expect(new Set(rows.map((row) => row.wamid))).toEqual(sent);
  expect(rows.filter((row) => row.applied_at === null)).toEqual([]);

  expect(answered).toBe(customers.length);
  const states = new Map<string, string>();
  for (const customer of customers) {
    const session = await gateway.database.db
      .selectFrom('sessions')
      .select(['state', 'snapshot'])
      .where('workspace_id', '=', 'acme')
      .where('customer_wa_id', '=', customer)
      .executeTakeFirstOrThrow();
    const { history } = (session.snapshot as { context: SessionContext }).context;
    const applied = history.flatMap((entry) => (entry.kind === 'customer' ? [entry.wamid] : []));
    const expected = acknowledged
      .filter((message) => message.from === customer)
      .map((message) => message.wamid);
    expect(applied.sort(), customer).toEqual(expected.sort());
    expect(
      history.filter((entry) => entry.kind === 'ai'),
      customer,
    ).toHaveLength(1);
    states.set(customer, session.state);
  }
  return { answered, states };
}
