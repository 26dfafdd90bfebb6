import { z } from 'zod';

/** The simulator's contract: the route validates and documents with it, the sandbox page and `chat` type with it. */
export const sandboxView = z.object({
  workspaceId: z.string(),
  workspaceName: z.string(),
  agent: z.object({ agentId: z.string(), name: z.string() }),
  phoneNumbers: z
    .array(z.object({ phoneNumberId: z.string(), displayPhoneNumber: z.string().nullable() }))
    .describe('the sandbox numbers a simulated customer can write to; production numbers are not listed'),
});

export type SandboxView = z.output<typeof sandboxView>;
