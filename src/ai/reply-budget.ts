/**
 * Output tokens an answer is given at the least. A shorter `max_tokens` would cut most answers off, and a cut-off
 * answer is never sent: the call would be paid for nothing.
 */
const MIN_ANSWER_TOKENS = 512;

/**
 * What one more search adds to the next call's input, roughly: the search call's own output, sent back, and the
 * passages it returns (5 passages of at most 250 words). Only used to decide whether searching still leaves room
 * for the answer after it; the budget itself is kept by counting every call's input before it is made.
 */
const SEARCH_RESERVE_TOKENS = 2_500;

export interface BudgetState {
  /** The workspace's `maxTokensPerReply`. */
  budget: number;
  /** Tokens the turn's earlier calls used, every kind of input and output. */
  spent: number;
  /** The next call's input tokens, counted before it is made (an upper bound). */
  input: number;
  /** The per-call output cap. */
  maxTokens: number;
  /** Whether the model may still search this turn. */
  searchesLeft: boolean;
}

export type CallPlan =
  | { kind: 'call'; maxOutput: number; mustAnswer: boolean }
  | { kind: 'over_budget'; needed: number };

/**
 * How the next model call may spend what is left of the reply's budget. The call's input plus its `max_tokens`
 * never exceed what is left, so the turn never uses more than its budget. The call may search only while
 * a search, and the answer after it, would still fit; an answer that does not fit is not attempted.
 */
export function planCall(state: BudgetState): CallPlan {
  const answerFloor = Math.min(MIN_ANSWER_TOKENS, state.maxTokens);
  const left = state.budget - state.spent - state.input;
  if (left < answerFloor) {
    return { kind: 'over_budget', needed: state.spent + state.input + answerFloor };
  }
  // Searching sends this call's input twice: once now, and again (grown by the search) with the answer.
  const searchFits = state.spent + 2 * state.input + SEARCH_RESERVE_TOKENS + answerFloor <= state.budget;
  return {
    kind: 'call',
    maxOutput: Math.min(state.maxTokens, left),
    mustAnswer: !(state.searchesLeft && searchFits),
  };
}
