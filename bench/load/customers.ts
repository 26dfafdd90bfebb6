import { basename } from 'node:path';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import type { Conversation } from './payloads.ts';
import { PHRASEBOOKS, type Phrasebook } from './questions.ts';
import { pick } from './random.ts';

/** A production number of the bench configuration, with what its customers say and how a handoff reads. */
export interface BusinessNumber {
  workspaceId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  businessAccountId: string;
  accessToken: string;
  /** The workspace's fallback message: a reply with this text means a person takes over. */
  handoffMessage: string;
  phrasebook: Phrasebook;
}

export function businessNumbersOf(config: BotrelicConfig): BusinessNumber[] {
  return config.workspaces.flatMap((workspace, w) => {
    const folder = basename(workspace.knowledge[0] ?? '');
    const phrasebook = PHRASEBOOKS[folder as keyof typeof PHRASEBOOKS];
    if (!phrasebook)
      throw new Error(`workspace ${workspace.id}: no phrasebook for knowledge folder "${folder}"`);
    return workspace.phoneNumbers.map((number) => ({
      workspaceId: workspace.id,
      phoneNumberId: number.phoneNumberId,
      displayPhoneNumber: number.displayPhoneNumber ?? number.phoneNumberId,
      businessAccountId: String(102_290_129_340_000 + w),
      accessToken: number.accessToken ?? '',
      handoffMessage: workspace.fallback.message,
      phrasebook,
    }));
  });
}

export type CustomerState = 'idle' | 'waiting' | 'handed_off';

/** One customer talking to one business number: a session key of the engine. */
export interface Customer {
  index: number;
  number: BusinessNumber;
  conversation: Conversation;
  state: CustomerState;
  /** Where this customer is in the phrasebook: walking it forward never repeats a recent question. */
  nextQuestion: number;
  /** Webhooks of the current burst not acknowledged yet. */
  pendingAcks: number;
  /** Whether a reply came since the current burst started. */
  replied: boolean;
  /** performance.now() when the current burst's first message was due. */
  burstDueAt: number;
  /** performance.now() before which the customer is still reading the last reply. */
  thinksUntil: number;
}

export function createCustomers(
  numbers: readonly BusinessNumber[],
  count: number,
  random: () => number,
): Customer[] {
  return Array.from({ length: count }, (_, index) => {
    const number = numbers[index % numbers.length]!;
    const waId = `1555${String(index).padStart(8, '0')}`;
    return {
      index,
      number,
      conversation: {
        businessAccountId: number.businessAccountId,
        phoneNumberId: number.phoneNumberId,
        displayPhoneNumber: number.displayPhoneNumber,
        waId,
        name: `Customer ${index}`,
      },
      state: 'idle',
      nextQuestion: Math.floor(random() * number.phrasebook.questions.length),
      pendingAcks: 0,
      replied: false,
      burstDueAt: 0,
      thinksUntil: 0,
    };
  });
}

/**
 * What a customer sends next, as one burst of short lines answered together: mostly one question; sometimes
 * a greeting first, or two; now and then only a thank-you.
 */
export function nextBurst(customer: Customer, random: () => number): string[] {
  const { phrasebook } = customer.number;
  const roll = random();
  if (roll < 0.1) return [pick(phrasebook.thanks, random)];
  const question = phrasebook.questions[customer.nextQuestion % phrasebook.questions.length]!;
  customer.nextQuestion++;
  if (roll < 0.7) return [question];
  if (roll < 0.9) return [pick(phrasebook.greetings, random), question];
  return [pick(phrasebook.greetings, random), pick(phrasebook.greetings, random), question];
}
