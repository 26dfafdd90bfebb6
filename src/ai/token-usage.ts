import type { Usage } from '@anthropic-ai/sdk/resources/messages';

/** Tokens one answer used over its model calls, as the Messages API reports them. */
export interface TokenUsage {
  calls: number;
  /** Input tokens read without the cache. */
  input: number;
  /** Input tokens written to the prompt cache. */
  cacheCreation: number;
  /** Input tokens read from the prompt cache. */
  cacheRead: number;
  output: number;
}

export const noUsage = (): TokenUsage => ({ calls: 0, input: 0, cacheCreation: 0, cacheRead: 0, output: 0 });

/** One call's usage in our terms: the API reports the cache counters as null when they do not apply. */
export function usageOf(usage: Usage): TokenUsage {
  return {
    calls: 1,
    input: usage.input_tokens,
    cacheCreation: usage.cache_creation_input_tokens ?? 0,
    cacheRead: usage.cache_read_input_tokens ?? 0,
    output: usage.output_tokens,
  };
}

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  calls: a.calls + b.calls,
  input: a.input + b.input,
  cacheCreation: a.cacheCreation + b.cacheCreation,
  cacheRead: a.cacheRead + b.cacheRead,
  output: a.output + b.output,
});

/** Every token the calls processed, cached or not: what the per-reply budget counts. */
export const tokensOf = (usage: TokenUsage): number =>
  usage.input + usage.cacheCreation + usage.cacheRead + usage.output;
