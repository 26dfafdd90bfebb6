import { useEffect, useRef, useState } from 'preact/hooks';
import { Inspector } from './inspector.tsx';
import { Phone } from './phone.tsx';
import type { SandboxController } from './sandbox-controller.ts';
import type { Connection, SandboxContext, SandboxStore } from './sandbox-store.ts';

const CONNECTION: Record<Connection, string> = {
  offline: 'Offline, reconnecting…',
  connecting: 'Connecting…',
  live: 'Live',
};

/** The store's context, re-rendering the component on every change. */
function useSandbox(store: SandboxStore): SandboxContext {
  const [context, setContext] = useState(store.getSnapshot().context);
  useEffect(() => {
    const subscription = store.subscribe((snapshot) => setContext(snapshot.context));
    return () => subscription.unsubscribe();
  }, [store]);
  return context;
}

function SignIn({ controller, problem }: { controller: SandboxController; problem: string | null }) {
  const [token, setToken] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <main class="sign-in">
      <h1>Botrelic sandbox</h1>
      <p>Play a customer of one of your workspace's sandbox numbers. Nothing reaches WhatsApp.</p>
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
        <button type="submit">Sign in</button>
        {problem ? <p role="alert">{problem}</p> : null}
      </form>
    </main>
  );
}

export function App({ store, controller }: { store: SandboxStore; controller: SandboxController }) {
  const context = useSandbox(store);
  useEffect(() => controller.resume(), [controller]);
  const { sandbox, notice } = context;

  if (!context.token || !sandbox) {
    return <SignIn controller={controller} problem={notice?.kind === 'problem' ? notice.text : null} />;
  }
  const number = sandbox.phoneNumbers.find((candidate) => candidate.phoneNumberId === context.phoneNumberId);
  return (
    <div class="sandbox">
      <header class="top">
        <h1>Botrelic sandbox</h1>
        <span class="workspace">{sandbox.workspaceName}</span>
        <label>
          Sandbox number{' '}
          <select
            value={context.phoneNumberId ?? ''}
            onChange={(event) => controller.chooseNumber(event.currentTarget.value)}
          >
            {sandbox.phoneNumbers.map((candidate) => (
              <option key={candidate.phoneNumberId} value={candidate.phoneNumberId}>
                {candidate.displayPhoneNumber ? `+${candidate.displayPhoneNumber}` : candidate.phoneNumberId}
              </option>
            ))}
          </select>
        </label>
        <span class="customer">
          You are <strong>+{context.customer}</strong>
        </span>
        <span class={`connection ${context.connection}`} role="status">
          {CONNECTION[context.connection]}
        </span>
        <button type="button" onClick={() => controller.signOut()}>
          Sign out
        </button>
      </header>
      {notice ? (
        <p class={`notice ${notice.kind}`} role={notice.kind === 'problem' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      ) : null}
      {sandbox.phoneNumbers.length === 0 ? (
        <p class="notice problem" role="alert">
          Workspace {sandbox.workspaceId} has no sandbox number: add one with <code>mode: sandbox</code>.
        </p>
      ) : (
        <div class="panes">
          <Phone
            title={`${sandbox.workspaceName} · ${number?.displayPhoneNumber ? `+${number.displayPhoneNumber}` : (number?.phoneNumberId ?? '')}`}
            view={context.view}
            controller={controller}
          />
          <Inspector sessionId={context.sessionId} view={context.view} controller={controller} />
        </div>
      )}
    </div>
  );
}
