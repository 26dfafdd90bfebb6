import { connectEventStream } from '../../inbox/client/event-stream.ts';
import type { SimulatedMessage } from '../../whatsapp/simulated-message.ts';
import {
  type CustomerInput,
  createSandboxApiClient,
  type SandboxApiClient,
  SandboxApiError,
} from '../sandbox-api-client.ts';
import { newCustomerId, type SandboxStore } from './sandbox-store.ts';

/** The inbox keeps its token under this key too: a tab the sandbox opens starts signed in (sessionStorage is copied). */
const TOKEN_KEY = 'botrelic.agentToken';
/** Delivery ticks change without a session event (the sandbox plays the phone): read again until they settle. */
const TICKS_POLL_MS = 700;
const UNSETTLED = new Set(['pending', 'sent', 'delivered']);

/**
 * What the page does: signs in, follows the customer's session through the event stream, sends what the
 * customer types, advances the session's clock and opens the inbox. Components call it and read the store.
 */
export function createSandboxController(store: SandboxStore) {
  let api: SandboxApiClient | null = null;
  let stream: { close(): void } | null = null;
  let reload: ReturnType<typeof setTimeout> | undefined;

  const context = () => store.getSnapshot().context;
  const notice = (text: string, kind: 'info' | 'problem' = 'info') =>
    store.trigger.noticed({ notice: { text, kind } });
  const report = (error: unknown) =>
    notice(error instanceof Error ? error.message : String(error), 'problem');

  async function loadSession() {
    const { sessionId } = context();
    if (!api || !sessionId) return;
    try {
      const view = await api.session(sessionId);
      store.trigger.sessionLoaded({ view });
      const ticking = view.transcript.some(
        (message) => message.direction === 'out' && UNSETTLED.has(message.status),
      );
      if (ticking) scheduleLoad(TICKS_POLL_MS);
    } catch (error) {
      report(error);
    }
  }

  // A burst of events is read back once.
  function scheduleLoad(delayMs = 50) {
    clearTimeout(reload);
    reload = setTimeout(loadSession, delayMs);
  }
  store.on('sessionChanged', () => scheduleLoad());

  function signOut(problem?: string) {
    stream?.close();
    stream = null;
    api = null;
    sessionStorage.removeItem(TOKEN_KEY);
    store.trigger.signedOut();
    if (problem) notice(problem, 'problem');
  }

  async function signIn(token: string) {
    store.trigger.signedIn({ token });
    api = createSandboxApiClient({ token });
    try {
      store.trigger.sandboxLoaded({ sandbox: await api.sandbox() });
    } catch (error) {
      signOut(
        error instanceof SandboxApiError && error.status === 401 ? 'That token is not valid.' : String(error),
      );
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    // From now on: the stream is read from its live end, so start a customer of our own after it.
    stream = connectEventStream(token, null, {
      onEvent: (event) => {
        if (event.event.startsWith('session.')) store.trigger.eventReceived({ data: JSON.parse(event.data) });
      },
      onConnection: (connection) => store.trigger.connectionChanged({ connection }),
      onUnauthorized: () => signOut('Your token is no longer valid.'),
    });
  }

  async function send(input: CustomerInput) {
    const { sandbox, phoneNumberId, customer } = context();
    if (!api || !sandbox || !phoneNumberId) return false;
    try {
      await api.send(sandbox.workspaceId, customer, phoneNumberId, input);
      store.trigger.noticed({ notice: null });
      return true;
    } catch (error) {
      report(error);
      return false;
    }
  }

  function newCustomer() {
    clearTimeout(reload);
    const customer = newCustomerId();
    store.trigger.customerStarted({ customer });
    notice(`You are now a new customer, +${customer}.`);
  }

  return {
    signIn,
    signOut: () => signOut(),
    /** Signs in again with the token kept for this browser tab, if any. */
    resume: () => {
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) void signIn(token);
    },
    sendText: (text: string) => send({ text }),
    sendMessage: (message: SimulatedMessage) => send({ message }),
    newCustomer,
    chooseNumber: (phoneNumberId: string) => {
      store.trigger.numberChosen({ phoneNumberId });
      newCustomer();
    },
    /** Fires the session's pending timeout now (handoff, inactivity, AI), as if its deadline had come. */
    advance: async () => {
      const { sessionId } = context();
      if (!api || !sessionId) return;
      try {
        const result = await api.advance(sessionId);
        notice(`Fired the session's next timeout: it is now ${result.state}.`);
        scheduleLoad();
      } catch (error) {
        report(error);
      }
    },
    /** The inbox in another tab with this session open, to take it over as an agent. */
    openInbox: () => {
      const { sessionId } = context();
      if (sessionId) window.open(`/inbox?session=${encodeURIComponent(sessionId)}`, '_blank');
    },
  };
}

export type SandboxController = ReturnType<typeof createSandboxController>;
