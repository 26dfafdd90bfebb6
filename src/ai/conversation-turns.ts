import type { CustomerMessage, HistoryEntry } from '../machines/session.ts';

export interface ConversationTurn {
  role: 'user' | 'assistant';
  content: string;
}

export const HANDBACK_NOTE = '[A human agent handled the conversation above and handed it back to you]';
export const OMITTED_NOTE = '[Earlier messages of this conversation are not shown]';

/** The model reads text only, so a message of another type says what it was. */
function describeCustomerMessage(type: string, text: string | null): string {
  const body = text?.trim() ?? '';
  if (type === 'text') return body === '' ? '[empty message]' : body;
  return body === '' ? `[${type}]` : `[${type}] ${body}`;
}

/**
 * The session as alternating user/assistant turns, ending with the unanswered burst. Consecutive entries of one
 * side merge into one turn, since the API wants the roles to alternate. Fallback, system and delivery records
 * are bookkeeping rather than conversation: the handback note is all the model needs to know about a handoff.
 */
export function conversationTurns(
  history: HistoryEntry[],
  unanswered: CustomerMessage[],
): ConversationTurn[] {
  const turns: { role: ConversationTurn['role']; parts: string[] }[] = [];
  const add = (role: ConversationTurn['role'], text: string) => {
    const last = turns.at(-1);
    if (last?.role === role) last.parts.push(text);
    else turns.push({ role, parts: [text] });
  };
  // The burst is sent last even if the history cap has cut part of it, so the model always sees all of it.
  const burst = new Set(unanswered.map((message) => message.wamid));
  for (const entry of history) {
    if (entry.kind === 'customer' && !burst.has(entry.wamid))
      add('user', describeCustomerMessage(entry.type, entry.text));
    else if (entry.kind === 'ai' || entry.kind === 'agent') add('assistant', entry.text);
    // Said as the customer's side, the note lands in the turn after the human's part, before the next question.
    else if (entry.kind === 'handback') add('user', HANDBACK_NOTE);
  }
  for (const message of unanswered) add('user', describeCustomerMessage(message.type, message.text));
  // A capped history can start with a reply; the first turn must be the customer's.
  if (turns[0]?.role === 'assistant') turns.unshift({ role: 'user', parts: [OMITTED_NOTE] });
  return turns.map((turn) => ({ role: turn.role, content: turn.parts.join('\n') }));
}
