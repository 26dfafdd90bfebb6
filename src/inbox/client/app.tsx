import { useEffect, useRef, useState } from 'preact/hooks';
import { Conversation } from './conversation.tsx';
import type { InboxController } from './inbox-controller.ts';
import type { Connection, InboxStore } from './inbox-store.ts';
import { SessionList } from './session-list.tsx';
import { useInbox, useServerNow } from './use-inbox.ts';

const CONNECTION: Record<Connection, string> = {
  offline: 'Offline, reconnecting…',
  connecting: 'Connecting…',
  live: 'Live',
};

function SignIn({
  controller,
  problem,
  busy,
}: {
  controller: InboxController;
  problem: string | null;
  busy: boolean;
}) {
  const [token, setToken] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <main class="sign-in">
      <h1>Botrelic inbox</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) void controller.signIn(token.trim());
        }}
      >
        <label for="token">Agent token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={token}
          ref={input}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {problem ? <p role="alert">{problem}</p> : null}
      </form>
    </main>
  );
}

export function App({ store, controller }: { store: InboxStore; controller: InboxController }) {
  const inbox = useInbox(store);
  const now = useServerNow(inbox.clockOffsetMs);
  useEffect(() => controller.resume(), [controller]);

  if (!inbox.token || !inbox.agent) {
    return <SignIn controller={controller} problem={inbox.problem} busy={inbox.token !== null} />;
  }
  const select = (sessionId: string) => void controller.select(sessionId);
  return (
    <div class="inbox">
      <header class="top">
        <h1>Botrelic inbox</h1>
        <span class={`connection ${inbox.connection}`} role="status">
          {CONNECTION[inbox.connection]}
        </span>
        <label class="availability">
          <input
            type="checkbox"
            checked={inbox.agent.available}
            onChange={(event) => void controller.setAvailable(event.currentTarget.checked)}
          />{' '}
          Available for new sessions
        </label>
        <span class="agent">{inbox.agent.name}</span>
        <button type="button" onClick={() => controller.signOut()}>
          Sign out
        </button>
      </header>
      {inbox.problem ? (
        <p class="problem" role="alert">
          {inbox.problem}
        </p>
      ) : null}
      <nav class="lists" aria-label="Sessions">
        <SessionList
          id="waiting"
          title="Waiting"
          sessions={inbox.waiting}
          selectedId={inbox.selectedId}
          now={now}
          empty="Nobody is waiting."
          onSelect={select}
        />
        <SessionList
          id="mine"
          title="Mine"
          sessions={inbox.mine}
          selectedId={inbox.selectedId}
          now={now}
          empty="No sessions assigned to you."
          onSelect={select}
        />
        <SessionList
          id="others"
          title="With others"
          sessions={inbox.others}
          selectedId={inbox.selectedId}
          now={now}
          empty="None."
          onSelect={select}
        />
      </nav>
      <main class="detail">
        {inbox.selected ? (
          <Conversation
            view={inbox.selected}
            agentId={inbox.agent.agentId}
            now={now}
            controller={controller}
          />
        ) : (
          <p class="hint">{inbox.selectedId ? 'Loading…' : 'Choose a session on the left.'}</p>
        )}
      </main>
    </div>
  );
}
