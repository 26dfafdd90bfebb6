import type { TemplateMessage } from '../machines/session.ts';
import type { SessionAddress } from '../persistence/session-store.ts';
import type { SessionClient } from './session-client.ts';
import type { RoutedCommandResult } from './session-router.ts';

/**
 * An approved WhatsApp template from the human agent who owns the session, to its customer. Unlike a
 * free-form reply it is allowed after the 24-hour window has closed; the session refuses it from anyone but
 * the agent it is assigned to, and the sender delivers it like any outbound message.
 */
export function sendTemplate(
  sessions: Pick<SessionClient, 'command'>,
  address: SessionAddress,
  request: { sessionId: string; agentId: string; template: TemplateMessage },
): Promise<RoutedCommandResult> {
  return sessions.command(address, { type: 'agent.template', ...request });
}
