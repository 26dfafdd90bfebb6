import { z } from 'zod';

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function quote(value: unknown): string {
  const json = JSON.stringify(value) ?? kindOf(value);
  return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}

/** Says what a field needed in the words of the JSON a developer reads, not zod's "Invalid input". */
function explain(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      // A zod record is a JSON object to whoever reads the payload.
      const expected = issue.expected === 'record' ? 'object' : issue.expected;
      return `expected ${expected}, got ${kindOf(issue.input)}`;
    }
    case 'invalid_value': {
      const expected = issue.values.map(quote).join(' or ');
      return issue.input === undefined
        ? `required, expected ${expected}`
        : `expected ${expected}, got ${quote(issue.input)}`;
    }
    default:
      return undefined;
  }
}

/** Every parse of a webhook part uses these, so nested parts (see readAt) word their issues alike. */
export const PARSE_OPTIONS = { error: explain };

/**
 * Parses the part found at `key` of a value being transformed, when its schema depends on a sibling field
 * (Meta's `{ type: 'location', location: {...} }`). Its issues join the outer parse at their full path.
 */
export function readAt<S extends z.ZodType>(
  schema: S,
  input: unknown,
  key: string,
  ctx: z.core.$RefinementCtx,
): z.output<S> {
  const result = schema.safeParse(input, PARSE_OPTIONS);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.issues.push({ code: 'custom', message: issue.message, path: [key, ...issue.path], input });
  }
  return z.NEVER;
}
