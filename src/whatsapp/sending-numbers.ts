import type { BotrelicConfig } from '../config/workspace-config.ts';

/** What sending from a phone number takes: its workspace, its mode and, in production, its access token. */
export type SendingNumber =
  | { workspaceId: string; mode: 'sandbox' }
  | { workspaceId: string; mode: 'production'; accessToken: string };

/**
 * The phone numbers the engine may send from, by Meta's phone_number_id. Kept apart from the inbound routing
 * table (phone-number-directory.ts) because it holds access tokens: only the sender and the typing indicator
 * get it.
 */
export interface SendingNumbers {
  lookup(phoneNumberId: string): SendingNumber | undefined;
}

export function createSendingNumbers(config: BotrelicConfig): SendingNumbers {
  const numbers = new Map<string, SendingNumber>();
  for (const workspace of config.workspaces) {
    for (const { phoneNumberId, mode, accessToken } of workspace.phoneNumbers) {
      if (mode === 'sandbox') {
        numbers.set(phoneNumberId, { workspaceId: workspace.id, mode });
        continue;
      }
      // The config schema refuses a production number without a token; this keeps the type honest.
      if (!accessToken) throw new Error(`production phone number ${phoneNumberId} has no access token`);
      numbers.set(phoneNumberId, { workspaceId: workspace.id, mode, accessToken });
    }
  }
  return { lookup: (phoneNumberId) => numbers.get(phoneNumberId) };
}
