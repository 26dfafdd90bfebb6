/**
 * A whole engine in a child process, for tests that kill it (SIGKILL) and start it again. It reads
 * JSON lines on stdin and answers on stdout; the database comes from DATABASE_URL or BOTRELIC_DATA_DIR,
 * the transport from NATS_URL, exactly as `botrelic serve` would take them.
 */
import { createInterface } from 'node:readline';
import type { ReplyAgent } from '../../src/ai/reply-agent.ts';
import { createEngine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { createLogger } from '../../src/observability/logger.ts';

const aiDelayMs = Number(process.env.TEST_AI_DELAY_MS ?? 0);
const phoneNumberId = '106540352242922';

/** Stands in for the LLM: asks for a human when the customer does, answers everything else after a delay. */
const agent: ReplyAgent = {
  async generateReply(request, signal) {
    const text = request.unanswered.map((message) => message.text ?? '').join(' ');
    if (/human/i.test(text)) return { kind: 'fallback', reason: 'keyword', evidence: { keyword: 'human' } };
    await new Promise((resolve) => setTimeout(resolve, aiDelayMs));
    if (signal.aborted) return { kind: 'fallback', reason: 'ai_error', evidence: { error: 'aborted' } };
    return { kind: 'reply', text: `You said: ${text}`, confidence: 0.9, lowConfidence: false, chunks: [] };
  },
};

const config = botrelicConfigSchema.parse({
  workspaces: [
    {
      id: 'acme',
      name: 'Acme Store',
      phoneNumbers: [{ phoneNumberId, mode: 'sandbox' }],
      humanTeams: [
        { id: 'support', agents: [{ id: 'alice', name: 'Alice', token: 'alice-token-0123456789' }] },
      ],
      sessions: {
        handoffTimeout: '2s',
        onHandoffTimeout: 'close',
        handoffTimeoutMessage: 'Nobody is free, sorry.',
      },
    },
  ],
});

const engine = await createEngine({
  config,
  env: readEnvironment(process.env),
  logger: createLogger({ level: 'silent' }),
  replyAgent: agent,
  actors: { sweepIntervalMs: 100, stalledInboundMs: 300 },
});
await engine.start();

function reply(message: unknown) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { op: 'say' | 'state'; waId: string; text?: string; wamid?: string };
  if (command.op === 'say') {
    await engine.sessions.recordInbound([
      {
        workspaceId: 'acme',
        phoneNumberId,
        customerWaId: command.waId,
        wamid: command.wamid!,
        type: 'text',
        body: command.text!,
        customerName: null,
        payload: {},
        sentAt: Date.now(),
      },
    ]);
    reply({ op: 'said', wamid: command.wamid });
  } else {
    const sessions = await engine.database.db
      .selectFrom('sessions')
      .select(['id', 'state', 'version', 'snapshot', 'closed_at'])
      .where('workspace_id', '=', 'acme')
      .where('customer_wa_id', '=', command.waId)
      .orderBy('created_at')
      .execute();
    const outbound = await engine.database.db
      .selectFrom('messages')
      .select(['body', 'author'])
      .where('workspace_id', '=', 'acme')
      .where('customer_wa_id', '=', command.waId)
      .where('direction', '=', 'out')
      .orderBy('id')
      .execute();
    reply({ op: 'state', waId: command.waId, sessions, outbound });
  }
}
