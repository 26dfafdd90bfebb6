import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { createOfflineAgent } from '../../src/ai/offline-agent.ts';
import type { ReplyOutcome } from '../../src/ai/reply-agent.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import {
  type BotrelicConfig,
  botrelicConfigSchema,
  type WorkspaceConfig,
} from '../../src/config/workspace-config.ts';
import { createKnowledgeBase } from '../../src/knowledge/knowledge-base.ts';
import type { CustomerMessage, FallbackReason, HistoryEntry } from '../../src/machines/session.ts';
import { createDatabase } from '../../src/persistence/database.ts';
import { migrateToLatest } from '../../src/persistence/migrate.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CONVERSATIONS_FILE = resolve(REPO_ROOT, 'test/eval/conversations.yaml');

const FALLBACK_REASONS = [
  'keyword',
  'unsupported',
  'low_confidence',
  'loop',
  'customer_request',
  'ai_error',
] as const;
const oneOrMany = z.union([z.string(), z.array(z.string())]).transform((value) => [value].flat());

const turnSchema = z
  .strictObject({
    say: oneOrMany.optional(),
    media: z.string().optional(),
    caption: z.string().optional(),
    button: z.string().optional(),
    expect: z.enum(['answer', 'fallback']),
    reason: z.enum(FALLBACK_REASONS).optional(),
    document: z.string().optional(),
    documents: z.array(z.string()).optional(),
    contains: oneOrMany.optional(),
  })
  .refine((turn) => [turn.say, turn.media, turn.button].filter(Boolean).length === 1, {
    message: 'a turn has exactly one of say, media or button',
  })
  .refine((turn) => (turn.expect === 'fallback') === (turn.reason !== undefined), {
    message: 'a fallback needs its reason, an answer has none',
  });

/** A workspace taken as it is from a configuration file, e.g. the shipped demo from botrelic.yaml. */
const configuredWorkspace = z.strictObject({
  from: z.string().describe('a botrelic.yaml-format file, relative to the repository root'),
  id: z.string(),
});

const evalFileSchema = z.strictObject({
  /** Inline workspaces in the botrelic.yaml format, or `{ from, id }`. */
  workspaces: z.array(z.union([configuredWorkspace, z.looseObject({ id: z.string() })])),
  conversations: z.array(
    z.strictObject({
      workspace: z.string(),
      name: z.string(),
      split: z.enum(['tuning', 'held-out']).default('tuning'),
      turns: z.array(turnSchema).min(1),
    }),
  ),
});

type Turn = z.output<typeof turnSchema>;

export interface TurnResult {
  workspace: string;
  conversation: string;
  /** Tuning turns are those the agent was tuned on; held-out turns were written after, never tuned on. */
  split: 'tuning' | 'held-out';
  turn: number;
  said: string;
  expected:
    | { kind: 'answer'; documents: string[]; facts: string[] }
    | { kind: 'fallback'; reason: FallbackReason };
  outcome: ReplyOutcome;
  /** The document the reply leads with. */
  document: string | null;
  /** Whether the agent did what the label says: the right kind, document and reason. */
  correct: boolean;
  /** Facts the reply should quote and does not. */
  missingFacts: string[];
}

export interface Rate {
  precision: number;
  recall: number;
  /** Turns predicted, turns labelled, turns both. */
  predicted: number;
  labelled: number;
  matched: number;
}

export interface Scores {
  turns: number;
  answer: Rate;
  fallback: Rate;
  reasons: Record<string, Rate>;
  /** Of the answered turns with facts to quote, the share that quote them all. */
  factRecall: number;
}

export interface EvalReport extends Scores {
  results: TurnResult[];
  workspaces: string[];
  heldOut: Scores;
}

const documentOf = (chunkId: string): string => chunkId.slice(0, chunkId.lastIndexOf('#'));

function messagesOf(turn: Turn, id: string): CustomerMessage[] {
  if (turn.media) return [{ wamid: `${id}.0`, type: turn.media, text: turn.caption ?? null, sentAt: 0 }];
  if (turn.button) return [{ wamid: `${id}.0`, type: 'button', text: turn.button, sentAt: 0 }];
  return (turn.say ?? []).map((text, i) => ({ wamid: `${id}.${i}`, type: 'text', text, sentAt: 0 }));
}

function rate(matched: number, predicted: number, labelled: number): Rate {
  return {
    precision: predicted === 0 ? 1 : matched / predicted,
    recall: labelled === 0 ? 1 : matched / labelled,
    predicted,
    labelled,
    matched,
  };
}

function judge(
  turn: Turn,
  outcome: ReplyOutcome,
): Pick<TurnResult, 'expected' | 'document' | 'correct' | 'missingFacts'> {
  const document = outcome.kind === 'reply' && outcome.chunks[0] ? documentOf(outcome.chunks[0]) : null;
  if (turn.expect === 'fallback') {
    const reason = turn.reason!;
    return {
      expected: { kind: 'fallback', reason },
      document,
      correct: outcome.kind === 'fallback' && outcome.reason === reason,
      missingFacts: [],
    };
  }
  const documents = turn.documents ?? (turn.document ? [turn.document] : []);
  const facts = turn.contains ?? [];
  const text = outcome.kind === 'reply' ? outcome.text.toLowerCase() : '';
  return {
    expected: { kind: 'answer', documents, facts },
    document,
    correct: outcome.kind === 'reply' && (documents.length === 0 || documents.includes(document ?? '')),
    missingFacts: outcome.kind === 'reply' ? facts.filter((fact) => !text.includes(fact.toLowerCase())) : [],
  };
}

function score(results: TurnResult[]): Scores {
  const count = (predicate: (result: TurnResult) => boolean) => results.filter(predicate).length;
  const answer = rate(
    count((r) => r.expected.kind === 'answer' && r.correct),
    count((r) => r.outcome.kind === 'reply'),
    count((r) => r.expected.kind === 'answer'),
  );
  const fallback = rate(
    count((r) => r.expected.kind === 'fallback' && r.outcome.kind === 'fallback'),
    count((r) => r.outcome.kind === 'fallback'),
    count((r) => r.expected.kind === 'fallback'),
  );
  const reasons: Record<string, Rate> = {};
  for (const reason of FALLBACK_REASONS) {
    const predicted = count((r) => r.outcome.kind === 'fallback' && r.outcome.reason === reason);
    const labelled = count((r) => r.expected.kind === 'fallback' && r.expected.reason === reason);
    if (predicted + labelled === 0) continue;
    reasons[reason] = rate(
      count((r) => r.expected.kind === 'fallback' && r.expected.reason === reason && r.correct),
      predicted,
      labelled,
    );
  }
  const withFacts = results.filter((r) => r.expected.kind === 'answer' && r.expected.facts.length > 0);
  const quoted = withFacts.filter((r) => r.outcome.kind === 'reply' && r.missingFacts.length === 0);
  return {
    turns: results.length,
    answer,
    fallback,
    reasons,
    factRecall: withFacts.length === 0 ? 1 : quoted.length / withFacts.length,
  };
}

async function workspaceOf(entry: Record<string, unknown>): Promise<WorkspaceConfig> {
  const configured = configuredWorkspace.safeParse(entry);
  if (!configured.success) return botrelicConfigSchema.parse({ workspaces: [entry] }).workspaces[0]!;
  const { from, id } = configured.data;
  // No environment: the file's ${VAR:-default} values take their defaults, as on a fresh clone.
  const config = await loadConfig(resolve(REPO_ROOT, from), {});
  const workspace = config.workspaces.find((candidate) => candidate.id === id);
  if (!workspace) throw new Error(`${from} has no workspace "${id}"`);
  return workspace;
}

/**
 * Ingests the workspaces' knowledge into an in-memory PGlite and runs the offline agent over every labelled
 * turn, each with the history the conversation built so far (the agent's own earlier replies included).
 */
export async function runEvaluation(file = CONVERSATIONS_FILE): Promise<EvalReport> {
  const parsed = evalFileSchema.parse(parse(await readFile(file, 'utf8')));
  const config: BotrelicConfig = { workspaces: await Promise.all(parsed.workspaces.map(workspaceOf)) };
  const database = await createDatabase({ memory: true });
  try {
    await migrateToLatest(database.db);
    await syncWorkspaces(database.db, config);
    const knowledge = createKnowledgeBase(database.db);
    for (const workspace of config.workspaces) {
      const folders = workspace.knowledge.map((folder) => resolve(REPO_ROOT, folder));
      await knowledge.ingestFolders(workspace.id, folders, workspace.agent.language);
    }
    const settings = new Map(
      config.workspaces.map((workspace) => [workspace.id, agentSettingsFor(workspace)]),
    );
    const agent = createOfflineAgent({
      knowledge,
      settingsFor: (workspaceId) => settings.get(workspaceId)!,
    });

    const results: TurnResult[] = [];
    for (const [c, conversation] of parsed.conversations.entries()) {
      if (!settings.has(conversation.workspace)) {
        throw new Error(`conversation "${conversation.name}": no workspace "${conversation.workspace}"`);
      }
      let history: HistoryEntry[] = [];
      let lowConfidenceStreak = 0;
      for (const [t, turn] of conversation.turns.entries()) {
        const unanswered = messagesOf(turn, `eval.${c}.${t}`);
        history = [
          ...history,
          ...unanswered.map(
            (m): HistoryEntry => ({ kind: 'customer', at: t, wamid: m.wamid, type: m.type, text: m.text }),
          ),
        ];
        const outcome = await agent.generateReply(
          {
            sessionId: `eval-${c}`,
            workspaceId: conversation.workspace,
            history,
            unanswered,
            lowConfidenceStreak,
          },
          new AbortController().signal,
        );
        // What the session machine records.
        if (outcome.kind === 'reply') {
          history.push({
            kind: 'ai',
            at: t,
            text: outcome.text,
            confidence: outcome.confidence,
            chunks: outcome.chunks,
          });
          lowConfidenceStreak = outcome.lowConfidence ? lowConfidenceStreak + 1 : 0;
        } else {
          history.push({ kind: 'fallback', at: t, reason: outcome.reason, evidence: outcome.evidence });
          lowConfidenceStreak = 0;
        }
        results.push({
          workspace: conversation.workspace,
          conversation: conversation.name,
          split: conversation.split,
          turn: t + 1,
          said:
            turn.say?.join(' / ') ??
            (turn.button ? `[button] ${turn.button}` : `[${turn.media}] ${turn.caption ?? ''}`.trim()),
          outcome,
          ...judge(turn, outcome),
        });
      }
    }
    return {
      ...score(results),
      heldOut: score(results.filter((result) => result.split === 'held-out')),
      results,
      workspaces: config.workspaces.map((workspace) => workspace.id),
    };
  } finally {
    await database.close();
  }
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
const rateLine = (name: string, value: Rate): string =>
  `${name.padEnd(18)} precision ${percent(value.precision).padStart(6)} (${value.matched}/${value.predicted})` +
  `   recall ${percent(value.recall).padStart(6)} (${value.matched}/${value.labelled})`;

function describeOutcome(result: TurnResult): string {
  const { outcome } = result;
  if (outcome.kind === 'fallback') {
    const evidence = outcome.evidence as { rule?: string; confidence?: number };
    const confidence = typeof evidence.confidence === 'number' ? ` ${evidence.confidence.toFixed(2)}` : '';
    return `fallback ${outcome.reason} (${evidence.rule ?? '?'}${confidence})`;
  }
  const weak = outcome.lowConfidence ? ' weak' : '';
  return `answer ${outcome.confidence.toFixed(2)}${weak} from ${result.document ?? 'small talk'}`;
}

function describeExpected(result: TurnResult): string {
  const { expected } = result;
  if (expected.kind === 'fallback') return `fallback ${expected.reason}`;
  return expected.documents.length > 0
    ? `answer from ${expected.documents.join(' or ')}`
    : 'answer (small talk)';
}

const scoreLines = (scores: Scores): string[] => [
  rateLine('answer', scores.answer),
  rateLine('fallback', scores.fallback),
  ...Object.entries(scores.reasons).map(([reason, value]) => rateLine(`  ${reason}`, value)),
  `facts quoted       ${percent(scores.factRecall)} of the answered turns with facts to quote`,
];

/** The figures and every turn the agent got wrong, for a person to read. */
export function formatReport(report: EvalReport): string {
  const lines = [
    `Offline agent on ${report.turns} turns, workspaces ${report.workspaces.join(', ')}`,
    '',
    ...scoreLines(report),
    '',
    `Held out (${report.heldOut.turns} turns written after tuning, never tuned on):`,
    ...scoreLines(report.heldOut),
  ];
  const wrong = report.results.filter((result) => !result.correct || result.missingFacts.length > 0);
  lines.push(
    '',
    wrong.length === 0 ? 'No misclassified turns.' : `Misclassified or incomplete (${wrong.length}):`,
  );
  for (const result of wrong) {
    const split = result.split === 'held-out' ? ' (held out)' : '';
    lines.push(`  [${result.workspace} · ${result.conversation} · ${result.turn}${split}] ${result.said}`);
    lines.push(`      expected ${describeExpected(result)}; got ${describeOutcome(result)}`);
    if (result.missingFacts.length > 0 && result.outcome.kind === 'reply') {
      lines.push(`      missing ${result.missingFacts.map((fact) => JSON.stringify(fact)).join(', ')} in:`);
      lines.push(...result.outcome.text.split('\n').map((line) => `        | ${line}`));
    }
  }
  return lines.join('\n');
}
