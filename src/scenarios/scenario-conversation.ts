import type { SessionNotice } from '../actors/session-notice.ts';
import type { Engine } from '../app.ts';
import type { ManualClock } from '../clock/manual-clock.ts';
import type { KnowledgeChunk } from '../knowledge/knowledge-search.ts';
import type { FallbackReason, HistoryEntry } from '../machines/session.ts';
import {
  CONVERSATION_START,
  type ConversationCursor,
  type ConversationQueries,
} from '../persistence/conversation-queries.ts';
import type { SessionAddress } from '../persistence/session-store.ts';
import { deliveredMessage, type SimulatedMessage, webhookOf } from '../whatsapp/simulated-message.ts';
import { parseWebhookPayload } from '../whatsapp/webhook-payload.ts';
import type { HeldReplyAgent } from './held-reply-agent.ts';
import type { AgentAction } from './scenario-file.ts';

export interface TranscriptLine {
  who: 'customer' | 'ai' | 'agent' | 'system' | 'note';
  text: string;
  /** For AI answers: the confidence and the knowledge chunks it rests on. */
  detail?: string;
}

/** A message the business sent the customer, not yet checked by an `expect: { reply }`. */
export interface Reply {
  author: 'ai' | 'agent' | 'system';
  text: string;
  /** The AI's decision behind an AI answer. */
  decision?: { confidence: number; chunks: string[] };
}

/** A fallback the AI decided, not yet checked by an `expect: { fallback }`. */
export interface ObservedFallback {
  reason: FallbackReason;
  evidence: Record<string, unknown>;
}

export interface ConversationTarget {
  workspaceId: string;
  phoneNumberId: string;
  customer: { waId: string; name?: string };
  agentId: string;
}

export interface ConversationDeps {
  engine: Engine;
  clock: ManualClock;
  agent: HeldReplyAgent;
  queries: ConversationQueries;
}

const COMMAND_TYPES = {
  takeover: 'agent.takeover',
  release: 'agent.release',
  close: 'agent.close',
  reply: 'agent.message',
} as const;

/**
 * One scenario's customer talking to the in-process engine: deliveries take the webhook's path (Meta's parser,
 * the inbound recorder, the session's doorbell), agent actions the inbox's (a command to the session). After
 * each step it reads what the conversation stored, keeping a transcript and the replies and fallbacks not yet
 * checked.
 */
export class ScenarioConversation {
  readonly transcript: TranscriptLine[] = [];
  readonly replies: Reply[] = [];
  state: string | null = null;
  /** Fallbacks not yet checked, oldest first: each `expect: { fallback }` takes the next, as replies are taken. */
  readonly fallbacks: ObservedFallback[] = [];
  readonly #deps: ConversationDeps;
  readonly #target: ConversationTarget;
  readonly #address: SessionAddress;
  #cursor: ConversationCursor = CONVERSATION_START;
  #lastDelivery: Record<string, unknown>[] = [];
  /** The last state the transcript mentions. */
  #shownState: string | null = null;
  #sent = 0;

  constructor(deps: ConversationDeps, target: ConversationTarget) {
    this.#deps = deps;
    this.#target = target;
    this.#address = deps.engine.sessions.addressOf(
      target.workspaceId,
      target.phoneNumberId,
      target.customer.waId,
    );
  }

  /**
   * Delivers messages in one webhook, in the order given, each sent `ageMs` before now (staggered by a second
   * in list order, Meta's timestamps having second precision), while the AI is held: the customer typing on.
   */
  async deliver(messages: readonly SimulatedMessage[], options: { ageMs?: number; arrival?: number[] } = {}) {
    const now = this.#deps.clock.now() - (options.ageMs ?? 0);
    const delivered = messages.map((message, i) =>
      deliveredMessage(message, {
        from: this.#target.customer.waId,
        wamid: `wamid.scenario.${this.#target.customer.waId}.${++this.#sent}`,
        sentAt: now - (messages.length - 1 - i) * 1_000,
      }),
    );
    const arrival = options.arrival ?? delivered.map((_, i) => i);
    await this.#record(arrival.map((i) => delivered[i]!));
  }

  /** Meta redelivers the last webhook: same wamids, same payload. */
  async redeliverLast(): Promise<boolean> {
    if (this.#lastDelivery.length === 0) return false;
    await this.#record(this.#lastDelivery);
    return true;
  }

  /** A human agent's command, as the inbox gives it; resolves to why the session refused it, if it did. */
  async command(action: AgentAction): Promise<string | null> {
    const agentId = this.#target.agentId;
    const result = await this.#deps.engine.sessions.command(
      this.#address,
      action.type === 'reply'
        ? { type: COMMAND_TYPES.reply, agentId, text: action.text }
        : { type: COMMAND_TYPES[action.type], agentId },
    );
    if (result.ok) return null;
    if (result.error === 'rejected')
      return `the session refused ${COMMAND_TYPES[action.type]} in state ${result.state}`;
    return result.error === 'not_found' ? 'there is no open session to act on' : 'the session did not answer';
  }

  /** Moves time on: due in-memory timers fire, then the sweeper fires the stored deadlines. */
  async advance(ms: number): Promise<void> {
    const { engine, clock } = this.#deps;
    clock.advance(ms);
    await this.settle();
    await engine.sweeper.sweep();
    await this.settle();
  }

  /** Lets the engine finish everything it has to do: held AI calls answer, mailboxes drain. */
  async settle(): Promise<void> {
    const { engine, agent } = this.#deps;
    agent.release();
    // Two quiet passes in a row: an AI answer posts its job a few ticks after the call resolves.
    for (let quiet = 0; quiet < 2; ) {
      await engine.transport.flush();
      await engine.host.settle();
      if (agent.busy) {
        quiet = 0;
        await agent.idle();
      } else quiet++;
    }
  }

  /** Waits until the deliveries so far are applied, leaving the AI held (the customer may type on). */
  async applied(): Promise<void> {
    const { engine, agent } = this.#deps;
    agent.hold();
    await engine.transport.flush();
    await engine.host.settle();
  }

  note(text: string): void {
    this.transcript.push({ who: 'note', text });
  }

  /** Reads what the conversation stored since the last look into the transcript and the unchecked replies. */
  async observe(): Promise<void> {
    const { queries } = this.#deps;
    const { workspaceId, sessionKey } = this.#address;
    const { messages, notices, cursor } = await queries.listSince(workspaceId, sessionKey, this.#cursor);
    this.#cursor = cursor;
    for (const message of messages.filter((m) => m.author === 'customer')) {
      this.transcript.push({ who: 'customer', text: message.text ?? `[${message.type}]` });
    }
    this.#observeNotices(notices);
    const answers = notices.flatMap((notice) => notice.entries).filter((entry) => entry.kind === 'ai');
    for (const message of messages) {
      if (message.author === 'customer') continue;
      const text = message.text ?? '';
      const answer = message.author === 'ai' ? answers.find((entry) => entry.text === text) : undefined;
      const decision = answer && { confidence: answer.confidence, chunks: answer.chunks };
      this.replies.push({ author: message.author, text, ...(decision ? { decision } : {}) });
      this.transcript.push({
        who: message.author,
        text,
        ...(decision ? { detail: describeDecision(decision) } : {}),
      });
    }
    this.state = (await queries.latestSession(workspaceId, sessionKey))?.state ?? null;
  }

  /** The session's history as the machine (and the AI) saw it: arrival order as applied. */
  async history(): Promise<HistoryEntry[]> {
    const { workspaceId, sessionKey } = this.#address;
    return (await this.#deps.queries.latestSession(workspaceId, sessionKey))?.context.history ?? [];
  }

  chunks(ids: readonly string[]): Promise<KnowledgeChunk[]> {
    return this.#deps.queries.listChunks(this.#address.workspaceId, ids);
  }

  #observeNotices(notices: SessionNotice[]): void {
    const path: string[] = [];
    for (const notice of notices) {
      if (notice.previousState === null) {
        this.note('a new session starts');
        this.#shownState = 'active';
      }
      // ai_responding lasts a moment; the answer or the fallback is what matters.
      if (notice.state !== 'ai_responding' && notice.state !== this.#shownState) {
        this.#shownState = notice.state;
        path.push(notice.state);
      }
      for (const entry of notice.entries) {
        if (entry.kind === 'fallback') {
          this.fallbacks.push({ reason: entry.reason, evidence: entry.evidence });
          this.note(`fallback: ${entry.reason}${describeEvidence(entry.evidence)}`);
        }
      }
    }
    if (path.length > 0) this.note(`state → ${path.join(' → ')}`);
  }

  async #record(messages: Record<string, unknown>[]): Promise<void> {
    const { customer } = this.#target;
    const contact = customer.name ? { waId: customer.waId, name: customer.name } : undefined;
    const parsed = parseWebhookPayload(webhookOf(this.#target.phoneNumberId, messages, contact)).messages;
    await this.#deps.engine.inbound.record(
      parsed.map((message) => ({ workspaceId: this.#target.workspaceId, message })),
    );
    this.#lastDelivery = messages;
    await this.applied();
  }
}

function describeDecision(decision: { confidence: number; chunks: string[] }): string {
  const chunks = decision.chunks.length > 0 ? ` · ${decision.chunks.join(', ')}` : '';
  return `confidence ${decision.confidence.toFixed(2)}${chunks}`;
}

/** The evidence a person reads first: which rule, and the keyword, type or confidence it fired on. */
function describeEvidence(evidence: Record<string, unknown>): string {
  const parts = ['rule', 'keyword', 'type', 'confidence']
    .filter((key) => evidence[key] !== undefined)
    .map((key) => {
      const value = evidence[key];
      return `${key} ${typeof value === 'number' ? value.toFixed(2) : JSON.stringify(value)}`;
    });
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
