import { z } from 'zod';

/**
 * A route schema from a zod schema: zod gives the handler its types, the JSON Schema validates requests,
 * serialises responses and documents the route in OpenAPI, so all three come from one source.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io });
  return rest;
}
