import { type AgentApiClient, ApiProblem, createAgentApiClient } from './agent-api-client.ts';
import { connectEventStream } from './event-stream.ts';
import type { InboxStore } from './inbox-store.ts';

const TOKEN_KEY = 'botrelic.agentToken';

/**
 * What the page does: signs in, loads the inbox, keeps the event stream running into the store, and sends the
 * agent's commands. Components call it and read the store; they never fetch themselves.
 */
export function createInboxController(store: InboxStore) {
  let api: AgentApiClient | null = null;
  let stream: { close(): void } | null = null;
  let reload: ReturnType<typeof setTimeout> | undefined;

  const report = (error: unknown) =>
    store.trigger.problemReported({ problem: error instanceof Error ? error.message : String(error) });

  async function loadSelected() {
    const { selectedId } = store.getSnapshot().context;
    if (!api || !selectedId) return;
    try {
      store.trigger.sessionLoaded({ session: await api.session(selectedId) });
    } catch (error) {
      report(error);
    }
  }

  // A burst of events for the open session is read back once.
  store.on('selectedChanged', () => {
    clearTimeout(reload);
    reload = setTimeout(loadSelected, 50);
  });

  async function loadInbox() {
    if (!api) return;
    const inbox = await api.inbox();
    store.trigger.inboxLoaded({ inbox, clockOffsetMs: inbox.now - Date.now() });
  }

  function signOut(problem: string | null = null) {
    stream?.close();
    stream = null;
    api = null;
    sessionStorage.removeItem(TOKEN_KEY);
    store.trigger.signedOut();
    if (problem) store.trigger.problemReported({ problem });
  }

  async function signIn(token: string) {
    store.trigger.signedIn({ token });
    api = createAgentApiClient(token);
    try {
      await loadInbox();
    } catch (error) {
      signOut(
        error instanceof ApiProblem && error.status === 401 ? 'That token is not valid.' : String(error),
      );
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    stream = connectEventStream(token, store.getSnapshot().context.lastEventId, {
      onEvent: (event) => {
        if (event.event === 'resync') {
          // Too far behind to replay: the open transcript's ticks are read again with the rest.
          loadInbox().catch(report);
          void loadSelected();
        } else if (event.event === 'message.status') {
          store.trigger.statusReceived({ id: event.lastEventId, data: JSON.parse(event.data) });
        } else if (event.event.startsWith('session.')) {
          store.trigger.eventReceived({ id: event.lastEventId, data: JSON.parse(event.data) });
        }
      },
      onConnection: (connection) => store.trigger.connectionChanged({ connection }),
      onUnauthorized: () => signOut('Your token is no longer valid.'),
    });
    // `/inbox?session=<id>` opens on that session: the sandbox's "take over" links here.
    const linked = new URLSearchParams(location.search).get('session');
    if (linked) await select(linked);
  }

  async function select(sessionId: string | null) {
    store.trigger.sessionSelected({ sessionId });
    await loadSelected();
  }

  /** Runs a command on the open session; false (and the reason on the status line) when refused. */
  async function act(run: (api: AgentApiClient, sessionId: string) => Promise<unknown>): Promise<boolean> {
    const { selectedId } = store.getSnapshot().context;
    if (!api || !selectedId) return false;
    try {
      await run(api, selectedId);
      store.trigger.problemReported({ problem: null });
      await loadSelected();
      return true;
    } catch (error) {
      report(error);
      await loadSelected();
      return false;
    }
  }

  return {
    signIn,
    signOut: () => signOut(),
    select,
    /** Signs in again with the token kept for this browser tab, if any. */
    resume: () => {
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) void signIn(token);
    },
    takeOver: () => act((client, id) => client.command(id, 'takeover')),
    release: () => act((client, id) => client.command(id, 'release')),
    close: () => act((client, id) => client.command(id, 'close')),
    reply: (text: string) => act((client, id) => client.reply(id, text)),
    sendTemplate: (name: string, language: string) =>
      act((client, id) => client.template(id, { name, language })),
    setAvailable: async (available: boolean) => {
      try {
        const changed = await api?.setAvailable(available);
        if (changed) store.trigger.availabilityChanged({ available: changed.available });
      } catch (error) {
        report(error);
      }
    },
  };
}

export type InboxController = ReturnType<typeof createInboxController>;
