import { Counter, type Registry } from 'prom-client';

/** What the AI agents cost, registered on the registry the composition root owns. */
export function createAiMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /**
     * Tokens the Messages API reports, by model and kind: `input` (not cached), `cache_creation` (written to the
     * prompt cache), `cache_read` (read from it) and `output`. Cache counters that stay at zero mean the cached
     * prefix is under the model's minimum cacheable length (see docs/ai.md).
     */
    tokens: new Counter({
      name: 'botrelic_ai_tokens_total',
      help: 'Tokens used by AI model calls, by model and kind (input, cache_creation, cache_read, output).',
      labelNames: ['model', 'kind'] as const,
      registers,
    }),
    modelCalls: new Counter({
      name: 'botrelic_ai_model_calls_total',
      help: 'AI model calls answered, by model and stop reason.',
      labelNames: ['model', 'stop_reason'] as const,
      registers,
    }),
  };
}

export type AiMetrics = ReturnType<typeof createAiMetrics>;
