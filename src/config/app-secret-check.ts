import { type Environment, EnvironmentError } from './environment.ts';
import type { BotrelicConfig } from './workspace-config.ts';

/**
 * A production number's webhooks come from Meta and must be verified with the app secret. Without it the
 * gateway would refuse every one of them (401) and Meta would retry for days while customers wait, so a
 * misconfigured start fails at once instead, naming the variable.
 */
export function requireAppSecretForProduction(config: BotrelicConfig, env: Environment): void {
  if (env.WHATSAPP_APP_SECRET) return;
  const production = config.workspaces.flatMap((workspace) =>
    workspace.phoneNumbers
      .filter((phoneNumber) => phoneNumber.mode === 'production')
      .map((phoneNumber) => `${phoneNumber.phoneNumberId} (workspace ${workspace.id})`),
  );
  if (production.length === 0) return;
  const numbers = production.length === 1 ? 'number' : 'numbers';
  throw new EnvironmentError([
    `WHATSAPP_APP_SECRET is required: the production phone ${numbers} ${production.join(', ')} get Meta ` +
      "webhooks, which are verified with your Meta app's secret (App settings → Basic → App secret). " +
      `Set WHATSAPP_APP_SECRET, or switch the ${numbers} to mode: sandbox.`,
  ]);
}
