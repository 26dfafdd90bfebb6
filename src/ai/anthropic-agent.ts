import type Anthropic from '@anthropic-ai/sdk';
import { APIError, NotFoundError } from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import type { KnowledgeHit, KnowledgeSearch } from '../knowledge/knowledge-search.ts';
import type { ReplyRequest } from '../machines/session.ts';
import type { AgentSettings } from './agent-settings.ts';
import type { AiMetrics } from './ai-metrics.ts';
import {
  ANSWER_TOOL,
  ANSWER_TOOLS,
  type AnswerInput,
  answerInput,
  formatPassages,
  SEARCH_TOOL,
  searchInput,
  systemPrompt,
} from './answer-prompt.ts';
import { conversationTurns } from './conversation-turns.ts';
import { detectFallbackAfterAnswer, detectFallbackBeforeAnswer, isWeakAnswer } from './fallback-rules.ts';
import { type ReplyAgent, type ReplyOutcome, topHits } from './reply-agent.ts';
import { planCall } from './reply-budget.ts';
import { addUsage, noUsage, type TokenUsage, tokensOf, usageOf } from './token-usage.ts';

export interface AnthropicAgentOptions {
  client: Anthropic;
  knowledge: KnowledgeSearch;
  settingsFor(workspaceId: string): AgentSettings;
  /** Token counts by model and kind; none by default. */
  metrics?: AiMetrics;
  /** Output tokens per model call, at most: the workspace's `maxTokensPerReply` bounds the whole answer. */
  maxTokens?: number;
  /** Per HTTP attempt; the session's own AI timeout (through the AbortSignal) bounds the whole turn. */
  timeoutMs?: number;
  /** Retries of one model call on 408/409/429/5xx and connection errors, with the SDK's backoff. */
  maxRetries?: number;
  /** Follow-up searches the model may make in one turn: with the final answer, at most this + 1 model calls. */
  maxSearches?: number;
  passagesPerSearch?: number;
}

/** What every call of a turn sends besides its output cap and tool choice. */
type Prompt = Pick<MessageCreateParamsNonStreaming, 'model' | 'system' | 'tools' | 'messages'>;

/** The API's count is an estimate, which a call's usage may exceed by a little (Anthropic's word). */
const COUNT_MARGIN = 0.02;
/** What the API adds to a call that offers tools (its own tool-use instructions), with room to spare. */
const TOOL_USE_PROMPT_TOKENS = 500;

/** A failure of the turn that is not an API error: the model broke the protocol, or the turn was aborted. */
class TurnError extends Error {
  constructor(
    message: string,
    /** The evidence's rule when it says more than `ai_error`. */
    readonly rule = 'ai_error',
  ) {
    super(message);
  }
}

/** Runs `work`, but gives up as soon as the turn is aborted: a slow knowledge search must not hold it. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new TurnError('the reply was aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TurnError('the reply was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const API_KEY_PATTERN = /sk-ant-[\w-]+/g;

/** The turn's token usage in a decision's evidence, once a model call has been made. */
const withUsage = (evidence: Record<string, unknown>, usage: TokenUsage): Record<string, unknown> =>
  usage.calls === 0 ? evidence : { ...evidence, usage };

/** What a person needs to see about a failure, with any credential cut out of the message. */
function errorEvidence(error: unknown, apiKey: string | null): Record<string, unknown> {
  const raw = error instanceof Error ? error.message : String(error);
  let message = raw.replace(API_KEY_PATTERN, '[redacted]');
  if (apiKey) message = message.replaceAll(apiKey, '[redacted]');
  if (!(error instanceof APIError)) {
    return { rule: error instanceof TurnError ? error.rule : 'ai_error', error: message };
  }
  return {
    rule: 'ai_error',
    error: message,
    status: error.status ?? null,
    type: error.type ?? null,
    requestId: error.requestID ?? null,
  };
}

// Only text and tool calls are ever asked for; the assistant turn is echoed back with exactly those.
const asParams = (content: Message['content']): ContentBlockParam[] =>
  content.flatMap((block): ContentBlockParam[] => {
    if (block.type === 'text') return [{ type: 'text', text: block.text }];
    if (block.type === 'tool_use')
      return [{ type: 'tool_use', id: block.id, name: block.name, input: block.input }];
    return [];
  });

function parseAnswer(call: ToolUseBlock): AnswerInput {
  const parsed = answerInput.safeParse(call.input);
  if (!parsed.success)
    throw new TurnError(`the model called ${ANSWER_TOOL} with invalid input: ${parsed.error.message}`);
  if (!parsed.data.escalate && parsed.data.reply.trim() === '') {
    throw new TurnError(`the model called ${ANSWER_TOOL} with an empty reply`);
  }
  return parsed.data;
}

/**
 * The AI agent on Anthropic's Messages API. Answers only from the workspace's knowledge base; never throws.
 * One answer may take several model calls (follow-up searches, then the answer), each sending the conversation
 * again. Each call's input is counted before it is made and its output capped to what is left, so the answer's
 * calls together never use more than the workspace's `maxTokensPerReply`; their usage is recorded in the
 * decision's evidence and the token metrics.
 */
export function createAnthropicAgent(options: AnthropicAgentOptions): ReplyAgent {
  const { client, knowledge, settingsFor, metrics } = options;
  const maxTokens = options.maxTokens ?? 1024;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const maxRetries = options.maxRetries ?? 2;
  const maxSearches = options.maxSearches ?? 3;
  const passagesPerSearch = options.passagesPerSearch ?? 5;

  function decide(
    answer: AnswerInput,
    request: ReplyRequest,
    settings: AgentSettings,
    hits: KnowledgeHit[],
    usage: TokenUsage,
  ): ReplyOutcome {
    if (answer.escalate) {
      return {
        kind: 'fallback',
        reason: answer.escalate_reason ?? 'unsupported',
        evidence: withUsage(
          {
            rule: 'model_escalated',
            modelReason: answer.escalate_reason ?? null,
            confidence: answer.confidence,
            draft: answer.reply,
          },
          usage,
        ),
      };
    }
    const known = new Set(hits.map((hit) => hit.id));
    // An id the model made up cites nothing.
    const citations = answer.citations.filter((id) => known.has(id));
    const fallback = detectFallbackAfterAnswer({
      confidence: answer.confidence,
      threshold: settings.confidenceThreshold,
      lowConfidenceStreak: request.lowConfidenceStreak,
      maxLowConfidenceTurns: settings.fallback.maxLowConfidenceTurns,
      hits,
      citations,
      smallTalk: answer.small_talk,
      minRelevance: settings.fallback.minRelevance,
    });
    if (fallback) {
      return { kind: 'fallback', reason: fallback.reason, evidence: withUsage(fallback.evidence, usage) };
    }
    const weak = isWeakAnswer(answer.confidence, settings.confidenceThreshold);
    return {
      kind: 'reply',
      text: answer.reply.trim(),
      confidence: answer.confidence,
      lowConfidence: weak,
      chunks: citations,
      evidence: {
        rule: answer.small_talk ? 'small_talk' : 'answered',
        weak,
        threshold: settings.confidenceThreshold,
        hits: topHits(hits),
        usage,
      },
    } satisfies ReplyOutcome;
  }

  /** Counts one call's usage into the turn's total and the metrics. */
  function record(usage: TokenUsage, response: Message, model: string): TokenUsage {
    const call = usageOf(response.usage);
    if (metrics) {
      metrics.modelCalls.inc({ model, stop_reason: response.stop_reason ?? 'none' });
      metrics.tokens.inc({ model, kind: 'input' }, call.input);
      metrics.tokens.inc({ model, kind: 'cache_creation' }, call.cacheCreation);
      metrics.tokens.inc({ model, kind: 'cache_read' }, call.cacheRead);
      metrics.tokens.inc({ model, kind: 'output' }, call.output);
    }
    return addUsage(usage, call);
  }

  /**
   * The call's input tokens, counted by the API before the call is made (counting is free), with a margin. Counted
   * with the tool choice that lets the model search: the API adds as many tokens for it as for the one that
   * makes the model answer.
   */
  async function inputTokensOf(prompt: Prompt, signal: AbortSignal): Promise<number> {
    try {
      const counted = await client.messages.countTokens(
        { ...prompt, tool_choice: { type: 'any', disable_parallel_tool_use: true } },
        { signal, timeout: timeoutMs, maxRetries },
      );
      return Math.ceil(counted.input_tokens * (1 + COUNT_MARGIN));
    } catch (error) {
      // An endpoint that does not count (some proxies): every token is at least one byte of what is sent.
      if (error instanceof NotFoundError) {
        return Buffer.byteLength(JSON.stringify(prompt)) + TOOL_USE_PROMPT_TOKENS;
      }
      throw error;
    }
  }

  /** `turn.usage` grows with every call, so a failure's evidence still says what the turn used. */
  async function answerTurn(
    request: ReplyRequest,
    signal: AbortSignal,
    turn: { usage: TokenUsage },
  ): Promise<ReplyOutcome> {
    const settings = settingsFor(request.workspaceId);
    const before = detectFallbackBeforeAnswer({
      unanswered: request.unanswered,
      history: request.history,
      settings: settings.fallback,
    });
    if (before) return { kind: 'fallback', ...before };
    if (request.unanswered.length === 0) throw new TurnError('there is no customer message to answer');

    const seen = new Map<string, KnowledgeHit>();
    const search = async (query: string) => {
      const found = await unlessAborted(
        knowledge.search(request.workspaceId, query, { limit: passagesPerSearch }),
        signal,
      );
      for (const hit of found) if (!seen.has(hit.id)) seen.set(hit.id, hit);
      return found;
    };
    const question = request.unanswered
      .map((message) => message.text)
      .filter((text) => text !== null)
      .join('\n');
    const system = systemPrompt(settings, question.trim() === '' ? [] : await search(question), maxSearches);
    const messages: MessageParam[] = conversationTurns(request.history, request.unanswered);

    const budget = settings.maxTokensPerReply;
    for (let searches = 0; ; ) {
      const spent = tokensOf(turn.usage);
      const prompt = { model: settings.model, system, tools: ANSWER_TOOLS, messages };
      const plan = planCall({
        budget,
        spent,
        input: await inputTokensOf(prompt, signal),
        maxTokens,
        searchesLeft: searches < maxSearches,
      });
      if (plan.kind === 'over_budget') {
        throw new TurnError(
          `no room left for an answer: it needs ${plan.needed} tokens with its input, over maxTokensPerReply ${budget}`,
          'token_budget',
        );
      }
      const response = await client.messages.create(
        {
          ...prompt,
          max_tokens: plan.maxOutput,
          // With every search (or the room for one) spent, the call can only answer.
          tool_choice: plan.mustAnswer
            ? { type: 'tool', name: ANSWER_TOOL }
            : { type: 'any', disable_parallel_tool_use: true },
        },
        { signal, timeout: timeoutMs, maxRetries },
      );
      turn.usage = record(turn.usage, response, settings.model);
      const call = response.content.find((block) => block.type === 'tool_use');
      // A tool call cut off by max_tokens carries partial input: nothing in it can be trusted.
      if (response.stop_reason === 'max_tokens') {
        throw new TurnError(
          `the model reached max_tokens (${plan.maxOutput}) before finishing ${call ? `its ${call.name} call` : 'its turn'}`,
          plan.maxOutput < maxTokens ? 'token_budget' : 'max_tokens',
        );
      }
      if (!call) throw new TurnError(`the model did not call a tool (stop_reason: ${response.stop_reason})`);
      if (call.name === ANSWER_TOOL) {
        return decide(parseAnswer(call), request, settings, [...seen.values()], turn.usage);
      }
      if (call.name !== SEARCH_TOOL || plan.mustAnswer) {
        throw new TurnError(`the model called an unexpected tool: ${call.name}`);
      }

      const parsed = searchInput.safeParse(call.input);
      if (!parsed.success) throw new TurnError(`the model called ${SEARCH_TOOL} with invalid input`);
      searches++;
      const found = await search(parsed.data.query);
      messages.push(
        { role: 'assistant', content: asParams(response.content) },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: call.id, content: formatPassages(found) }],
        },
      );
    }
  }

  return {
    async generateReply(request, signal) {
      const turn = { usage: noUsage() };
      try {
        return await answerTurn(request, signal, turn);
      } catch (error) {
        return {
          kind: 'fallback',
          reason: 'ai_error',
          evidence: withUsage(errorEvidence(error, client.apiKey), turn.usage),
        };
      }
    },
  };
}
