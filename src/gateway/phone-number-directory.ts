import type { BotrelicConfig } from '../config/workspace-config.ts';

export interface PhoneNumberRoute {
  workspaceId: string;
  mode: 'sandbox' | 'production';
}

/** Which workspace a Meta phone_number_id belongs to: the routing table of every inbound message. */
export interface PhoneNumberDirectory {
  lookup(phoneNumberId: string): PhoneNumberRoute | undefined;
  /** The workspace's sandbox numbers, in config order: the first is the simulator's default. */
  sandboxNumbersOf(workspaceId: string): string[];
}

export function createPhoneNumberDirectory(config: BotrelicConfig): PhoneNumberDirectory {
  const routes = new Map<string, PhoneNumberRoute>(
    config.workspaces.flatMap((workspace) =>
      workspace.phoneNumbers.map(
        (phoneNumber) =>
          [phoneNumber.phoneNumberId, { workspaceId: workspace.id, mode: phoneNumber.mode }] as const,
      ),
    ),
  );
  return {
    lookup: (phoneNumberId) => routes.get(phoneNumberId),
    sandboxNumbersOf: (workspaceId) =>
      [...routes]
        .filter(([, route]) => route.workspaceId === workspaceId && route.mode === 'sandbox')
        .map(([phoneNumberId]) => phoneNumberId),
  };
}
