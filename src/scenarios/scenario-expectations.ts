import { HEADING_SEPARATOR } from '../knowledge/chunker.ts';
import type { KnowledgeChunk } from '../knowledge/knowledge-search.ts';
import type { FallbackReason } from '../machines/session.ts';
import type { Reply, ScenarioConversation } from './scenario-conversation.ts';
import type { Expectation, ReplyExpectation } from './scenario-file.ts';

/** What the checks read of a conversation. */
export type ObservedConversation = Pick<
  ScenarioConversation,
  'replies' | 'state' | 'fallbacks' | 'history' | 'chunks'
>;

export type CheckResult = { ok: true } | { ok: false; expected: string; got: string };

const PASS: CheckResult = { ok: true };

const quote = (text: string): string => JSON.stringify(text);

function describeReply(reply: Reply): string {
  const decision = reply.decision ? ` (chunks: ${reply.decision.chunks.join(', ') || 'none'})` : '';
  return `${reply.author}: ${quote(reply.text)}${decision}`;
}

function describeExpectedReply(expected: ReplyExpectation): string {
  if ('text' in expected) return `a reply ${quote(expected.text)}`;
  if ('regex' in expected) return `a reply matching ${expected.regex}`;
  return `an AI answer resting on ${quote(expected.mentions)}`;
}

/** A mention names a document (with or without its extension), a chunk, a title or a heading of the chunk. */
function mentions(chunk: KnowledgeChunk, mention: string): boolean {
  const wanted = mention.trim().toLowerCase();
  const names = [
    chunk.id,
    chunk.documentId,
    chunk.documentId.replace(/\.[^./]+$/, ''),
    chunk.title,
    ...(chunk.heading === null ? [] : [chunk.heading, ...chunk.heading.split(HEADING_SEPARATOR)]),
  ];
  return names.some((name) => name.trim().toLowerCase() === wanted);
}

async function checkReply(
  expected: ReplyExpectation,
  conversation: ObservedConversation,
): Promise<CheckResult> {
  const reply = conversation.replies.shift();
  const wanted = describeExpectedReply(expected);
  if (!reply) return { ok: false, expected: wanted, got: 'no reply' };
  const failed = { ok: false, expected: wanted, got: describeReply(reply) } as const;
  if ('text' in expected) return reply.text === expected.text ? PASS : failed;
  if ('regex' in expected) return expected.regex.test(reply.text) ? PASS : failed;
  if (!reply.decision) return failed;
  const chunks = await conversation.chunks(reply.decision.chunks);
  return chunks.some((chunk) => mentions(chunk, expected.mentions)) ? PASS : failed;
}

/** Takes the next unchecked fallback: one that an earlier step already checked cannot pass this one. */
function checkFallback(expected: FallbackReason, conversation: ObservedConversation): CheckResult {
  const fallback = conversation.fallbacks.shift();
  const wanted = `a fallback with reason ${expected}`;
  if (!fallback) return { ok: false, expected: wanted, got: 'no fallback since the last one checked' };
  if (fallback.reason === expected) return PASS;
  return {
    ok: false,
    expected: wanted,
    got: `a fallback with reason ${fallback.reason} (${JSON.stringify(fallback.evidence)})`,
  };
}

async function checkOrder(expected: string[], conversation: ObservedConversation): Promise<CheckResult> {
  const seen = (await conversation.history())
    .filter((entry) => entry.kind === 'customer' || entry.kind === 'ai' || entry.kind === 'agent')
    .map((entry) => entry.text ?? '');
  let next = 0;
  for (const text of seen) if (text === expected[next]) next++;
  if (next === expected.length) return PASS;
  return {
    ok: false,
    expected: `the session to have seen, in this order: ${expected.map(quote).join(', ')}`,
    got: seen.length > 0 ? seen.map(quote).join(', ') : 'no messages',
  };
}

/** Checks one `expect` step; the first failing check is the step's failure. */
export async function checkExpectation(
  expectation: Expectation,
  conversation: ObservedConversation,
): Promise<CheckResult> {
  if (expectation.reply) {
    const result = await checkReply(expectation.reply, conversation);
    if (!result.ok) return result;
  }
  if (expectation.noReply && conversation.replies.length > 0) {
    const got = conversation.replies.splice(0).map(describeReply).join('\n');
    return { ok: false, expected: 'no reply', got };
  }
  if (expectation.state !== undefined && conversation.state !== expectation.state) {
    return {
      ok: false,
      expected: `state ${expectation.state}`,
      got: conversation.state === null ? 'no session yet' : `state ${conversation.state}`,
    };
  }
  if (expectation.fallback !== undefined) {
    const result = checkFallback(expectation.fallback, conversation);
    if (!result.ok) return result;
  }
  if (expectation.order) return checkOrder(expectation.order, conversation);
  return PASS;
}
