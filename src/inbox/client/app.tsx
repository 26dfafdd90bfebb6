import { useEffect, useRef, useState } from 'preact/hooks';
import type { TeamQueue } from '../../gateway/agent-api-schemas.ts';
import { teamQueues } from '../../gateway/team-queues.ts';
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

/** The element id of a queue's list: `waiting-<team>`, or `waiting` for sessions of no team. */
const queueId = (queue: TeamQueue) => (queue.teamId === null ? 'waiting' : `waiting-${queue.teamId}`);

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
  const queues = teamQueues(inbox.waiting, inbox.agent.teamIds);
  // An agent of no team with nobody waiting still sees where waiting sessions would appear.
  const ownQueues = queues.some((queue) => queue.own)
    ? queues.filter((queue) => queue.own)
    : [{ teamId: null, own: true, waiting: [] } satisfies TeamQueue];
  const otherQueues = queues.filter((queue) => !queue.own);
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
        {ownQueues.map((queue) => (
          <SessionList
            key={queue.teamId}
            id={queueId(queue)}
            title={queue.teamId === null ? 'Waiting' : `Waiting · ${queue.teamId}`}
            sessions={queue.waiting}
            selectedId={inbox.selectedId}
            now={now}
            empty="Nobody is waiting."
            onSelect={select}
          />
        ))}
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
        {otherQueues.map((queue) => (
          <SessionList
            key={queue.teamId}
            id={queueId(queue)}
            title={`Other team · ${queue.teamId}`}
            sessions={queue.waiting}
            selectedId={inbox.selectedId}
            now={now}
            empty="Nobody is waiting."
            onSelect={select}
          />
        ))}
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
