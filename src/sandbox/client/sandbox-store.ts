import { createStore } from '@xstate/store';
import type { SessionView } from '../../gateway/agent-api-schemas.ts';
import type { InboxEvent } from '../../gateway/inbox-events.ts';
import type { SandboxView } from '../../gateway/sandbox-schemas.ts';

export type Connection = 'offline' | 'connecting' | 'live';

export interface SandboxContext {
  token: string | null;
  /** The caller's workspace and its sandbox numbers. */
  sandbox: SandboxView | null;
  phoneNumberId: string | null;
  /** The simulated customer's wa_id: a new one for every "new customer". */
  customer: string;
  /** The customer's current session, once the engine has started one. */
  sessionId: string | null;
  view: SessionView | null;
  connection: Connection;
  /** What the last action did, or why it failed, for the status line. */
  notice: { text: string; kind: 'info' | 'problem' } | null;
}

type StoreEvent =
  | { type: 'signedIn'; token: string }
  | { type: 'signedOut' }
  | { type: 'sandboxLoaded'; sandbox: SandboxView }
  | { type: 'numberChosen'; phoneNumberId: string }
  | { type: 'customerStarted'; customer: string }
  | { type: 'eventReceived'; data: InboxEvent }
  | { type: 'sessionLoaded'; view: SessionView }
  | { type: 'connectionChanged'; connection: Connection }
  | { type: 'noticed'; notice: SandboxContext['notice'] };

/** The customer's session changed: its transcript, decisions and state need reading again. */
type SandboxEmitted = { type: 'sessionChanged'; sessionId: string };

/** A wa_id no real customer has: 1555 and eight random digits. */
export function newCustomerId(): string {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return `1555${String(n! % 100_000_000).padStart(8, '0')}`;
}

const initial = (customer: string): SandboxContext => ({
  token: null,
  sandbox: null,
  phoneNumberId: null,
  customer,
  sessionId: null,
  view: null,
  connection: 'offline',
  notice: null,
});

/**
 * The simulator's state: the workspace, the customer being played, and their session as the API last told it.
 * Components read it; the controller (sandbox-controller.ts) feeds it from the APIs and the event stream.
 */
export function createSandboxStore() {
  return createStore<SandboxContext, StoreEvent, SandboxEmitted>({
    context: initial(newCustomerId()),
    on: {
      signedIn: (context, event) => ({ ...initial(context.customer), token: event.token }),
      signedOut: (context) => initial(context.customer),
      sandboxLoaded: (context, event) => ({
        ...context,
        sandbox: event.sandbox,
        phoneNumberId: event.sandbox.phoneNumbers[0]?.phoneNumberId ?? null,
      }),
      numberChosen: (context, event) => ({ ...context, phoneNumberId: event.phoneNumberId }),
      customerStarted: (context, event) => ({
        ...context,
        customer: event.customer,
        sessionId: null,
        view: null,
      }),
      eventReceived: (context, event, enqueue) => {
        // The workspace's stream carries every session; this page follows its own customer only.
        if (event.data.customer.waId !== context.customer) return context;
        enqueue.emit.sessionChanged({ sessionId: event.data.sessionId });
        if (event.data.sessionId === context.sessionId) return context;
        return { ...context, sessionId: event.data.sessionId, view: null };
      },
      sessionLoaded: (context, event) =>
        event.view.session.sessionId === context.sessionId ? { ...context, view: event.view } : context,
      connectionChanged: (context, event) => ({ ...context, connection: event.connection }),
      noticed: (context, event) => ({ ...context, notice: event.notice }),
    },
  });
}

export type SandboxStore = ReturnType<typeof createSandboxStore>;
