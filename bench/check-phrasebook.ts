/**
 * Checks that the offline agent answers every question of the bench's phrasebooks (bench/load/questions.ts)
 * without handing the session to a person, alone and after a greeting: a question that falls back turns its
 * customers silent for the rest of a run. Run it after changing the knowledge bases or the agent:
 *
 *   node --import tsx bench/check-phrasebook.ts
 */
import { join } from 'node:path';
import { createReplyAgent } from '../src/ai/create-reply-agent.ts';
import { readEnvironment } from '../src/config/environment.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createKnowledgeBase } from '../src/knowledge/knowledge-base.ts';
import type { CustomerMessage, ReplyRequest } from '../src/machines/session.ts';
import { createDatabase } from '../src/persistence/database.ts';
import { migrateToLatest } from '../src/persistence/migrate.ts';
import { syncWorkspaces } from '../src/persistence/workspace-sync.ts';
import { businessNumbersOf } from './load/customers.ts';

const config = await loadConfig(join(import.meta.dirname, 'botrelic.bench.yaml'), process.env);
const database = await createDatabase({ memory: true });
await migrateToLatest(database.db);
await syncWorkspaces(database.db, config);
const knowledge = createKnowledgeBase(database.db);
for (const workspace of config.workspaces) {
  await knowledge.ingestFolders(workspace.id, workspace.knowledge, workspace.agent.language);
}
const { agent } = createReplyAgent(readEnvironment({}), { knowledge, config });

let wamids = 0;
const message = (text: string): CustomerMessage => ({
  wamid: `wamid.${++wamids}`,
  type: 'text',
  text,
  sentAt: 0,
});
const failures: string[] = [];
const seen = new Set<string>();
for (const number of businessNumbersOf(config)) {
  if (seen.has(number.workspaceId)) continue;
  seen.add(number.workspaceId);
  const { questions, greetings } = number.phrasebook;
  for (const question of questions) {
    for (const burst of [[question], [greetings[0]!, question]]) {
      const request: ReplyRequest = {
        sessionId: 'check',
        workspaceId: number.workspaceId,
        history: [],
        unanswered: burst.map(message),
        lowConfidenceStreak: 0,
      };
      const outcome = await agent.generateReply(request, new AbortController().signal);
      const verdict =
        outcome.kind === 'reply'
          ? `${outcome.lowConfidence ? 'WEAK ' : 'ok   '} ${outcome.confidence.toFixed(2)}`
          : `FALLBACK ${outcome.reason}`;
      console.log(`${number.workspaceId.padEnd(11)} ${verdict.padEnd(18)} ${burst.join(' / ')}`);
      // A weak answer counts towards the low-confidence streak: two in a row hand the session over.
      if (outcome.kind !== 'reply' || outcome.lowConfidence)
        failures.push(`${number.workspaceId}: ${burst.join(' / ')}`);
    }
  }
}
await database.close();
if (failures.length > 0) {
  console.error(`\n${failures.length} bursts would hand sessions over:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
