import type { Decision, SessionView } from '../../gateway/agent-api-schemas.ts';
import { REASONS } from '../../inbox/client/format.ts';
import type { SandboxController } from './sandbox-controller.ts';

/** The session machine's states, in the order a conversation usually meets them. */
const STATES: [state: string, meaning: string][] = [
  ['active', 'waiting for the customer'],
  ['ai_responding', 'the AI is composing'],
  ['fallback', 'waiting for a person'],
  ['human', 'an agent owns it'],
  ['closed', 'over'],
];

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  return (
    <dl class="evidence">
      {Object.entries(evidence).map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{show(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function DecisionItem({ decision }: { decision: Decision }) {
  if (decision.kind === 'ai') {
    return (
      <li class="decision ai">
        <strong>AI answered</strong>{' '}
        <span class="confidence">
          confidence <meter min={0} max={1} value={decision.confidence} /> {decision.confidence.toFixed(2)}
        </span>
        <ul class="chunks" aria-label="Knowledge chunks">
          {decision.chunks.length === 0 ? <li>no knowledge needed</li> : null}
          {decision.chunks.map((chunk) => (
            <li key={chunk}>
              <code>{chunk}</code>
            </li>
          ))}
        </ul>
      </li>
    );
  }
  if (decision.kind === 'fallback') {
    return (
      <li class="decision fallback">
        <strong>
          Fallback: <span class="reason">{decision.reason}</span>
        </strong>{' '}
        — {REASONS[decision.reason] ?? decision.reason}
        <Evidence evidence={decision.evidence} />
      </li>
    );
  }
  return (
    <li class="decision handback">
      <strong>Handed back to the AI</strong> by {decision.agentId}
    </li>
  );
}

/** Beside the phone: what the engine is doing with the conversation, and the buttons that move it along. */
export function Inspector({
  sessionId,
  view,
  controller,
}: {
  sessionId: string | null;
  view: SessionView | null;
  controller: SandboxController;
}) {
  const state = view?.session.state ?? null;
  const open = sessionId !== null && state !== 'closed';
  const handoff = view?.session.handoff ?? null;
  return (
    <aside class="inspector" aria-labelledby="inspector-title">
      <h2 id="inspector-title">Session</h2>
      <p class="session-id">{sessionId ? <code>{sessionId}</code> : 'No session yet.'}</p>
      <ol class="states" aria-label="Machine state">
        {STATES.map(([name, meaning]) => (
          <li
            key={name}
            class={name === state ? 'current' : ''}
            aria-current={name === state ? 'step' : undefined}
          >
            <code>{name}</code> <span>{meaning}</span>
          </li>
        ))}
      </ol>
      {view?.session.closedReason ? <p class="closed-reason">Closed: {view.session.closedReason}</p> : null}
      {handoff ? (
        <p class="handoff">
          Handoff: <strong>{handoff.reason}</strong>
          {handoff.teamId ? ` · team ${handoff.teamId}` : ''}
          {handoff.agentId ? ` · with ${handoff.agentId}` : ' · nobody has taken it yet'}
          {handoff.customerNotifiedAt ? ' · customer told to wait' : ''}
        </p>
      ) : null}
      <div class="actions">
        <button type="button" onClick={() => void controller.advance()} disabled={!open}>
          Advance clock past the next timeout
        </button>
        <button type="button" onClick={() => controller.openInbox()} disabled={!open}>
          Take over in the inbox ↗
        </button>
        <button type="button" onClick={() => controller.newCustomer()}>
          New customer
        </button>
      </div>
      <h3>Decisions</h3>
      <ol class="decisions" aria-label="AI decisions" aria-live="polite">
        {(view?.decisions ?? []).length === 0 ? <li class="empty">None yet.</li> : null}
        {[...(view?.decisions ?? [])].reverse().map((decision, index) => (
          <DecisionItem key={`${decision.kind}-${decision.at}-${index}`} decision={decision} />
        ))}
      </ol>
    </aside>
  );
}
