import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionView } from '../../gateway/agent-api-schemas.ts';
import { formatDuration, formatTime, REASONS } from './format.ts';
import type { InboxController } from './inbox-controller.ts';
import { customerLabel } from './session-list.tsx';

interface ConversationProps {
  view: SessionView;
  agentId: string;
  now: number;
  controller: InboxController;
}

const STATES: Record<string, string> = {
  active: 'with the AI',
  ai_responding: 'AI is answering',
  fallback: 'waiting for a person',
  human: 'taken over',
  closed: 'closed',
};

const AUTHORS: Record<string, string> = {
  customer: 'Customer',
  ai: 'AI',
  agent: 'Agent',
  system: 'Automatic',
};

function windowText(view: SessionView, now: number): string {
  const { endsAt } = view.serviceWindow;
  if (endsAt === null) return 'The customer has not written yet: only a template message can reach them.';
  if (now < endsAt)
    return `Reply window: ${formatDuration(endsAt - now)} left (until ${formatTime(endsAt)}).`;
  return `The 24-hour reply window closed at ${formatTime(endsAt)}: only an approved template can reach the customer.`;
}

/** Outside the 24-hour window: an approved template is the only message WhatsApp delivers. */
function TemplateForm({ controller }: { controller: InboxController }) {
  const [name, setName] = useState('');
  const [language, setLanguage] = useState('en_US');
  return (
    <form
      class="template"
      onSubmit={async (event) => {
        event.preventDefault();
        if (name.trim() && (await controller.sendTemplate(name.trim(), language.trim()))) setName('');
      }}
    >
      <label for="template-name">Approved template</label>
      <input id="template-name" value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <label for="template-language">Language</label>
      <input
        id="template-language"
        value={language}
        size={6}
        onInput={(event) => setLanguage(event.currentTarget.value)}
      />
      <button type="submit" disabled={name.trim() === ''}>
        Send template
      </button>
    </form>
  );
}

/** One session: why it was handed off, the transcript, the actions and the reply box. */
export function Conversation({ view, agentId, now, controller }: ConversationProps) {
  const { session } = view;
  const mine = session.state === 'human' && session.handoff?.agentId === agentId;
  const windowOpen = session.serviceWindowEndsAt !== null && now < session.serviceWindowEndsAt;
  const canTakeOver = ['active', 'ai_responding', 'fallback'].includes(session.state);
  const fallback = view.decisions.findLast((decision) => decision.kind === 'fallback');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const replyBox = useRef<HTMLTextAreaElement>(null);

  // Taking over moves the keyboard straight to the reply box.
  useEffect(() => {
    if (mine) replyBox.current?.focus();
  }, [mine, session.sessionId]);

  async function send() {
    const message = text.trim();
    if (!message || sending) return;
    setSending(true);
    if (await controller.reply(message)) setText('');
    setSending(false);
  }

  return (
    <article class="conversation" aria-labelledby="conversation-title">
      <header>
        <h2 id="conversation-title">{customerLabel(session)}</h2>
        <p class="status">
          <span class={`state state-${session.state}`}>{STATES[session.state] ?? session.state}</span>
          {session.handoff?.teamId ? ` · team ${session.handoff.teamId}` : ''}
          {session.handoff?.agentId ? ` · with ${session.handoff.agentId}` : ''}
        </p>
        <p class={`window ${windowOpen ? 'open' : 'closed'}`}>{windowText(view, now)}</p>
        <div class="actions">
          {canTakeOver ? (
            <button type="button" onClick={() => controller.takeOver()}>
              Take over
            </button>
          ) : null}
          {mine ? (
            <button type="button" onClick={() => controller.release()}>
              Release to AI
            </button>
          ) : null}
          {session.state !== 'closed' ? (
            <button type="button" class="danger" onClick={() => controller.close()}>
              Close session
            </button>
          ) : null}
        </div>
      </header>

      {fallback && fallback.kind === 'fallback' ? (
        <section class="handoff-reason" aria-label="Why the AI handed off">
          <strong>Handed off: {REASONS[fallback.reason] ?? fallback.reason}</strong>
          <dl>
            {Object.entries(fallback.evidence).map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}

      <ol class="transcript" aria-label="Transcript" aria-live="polite">
        {view.transcript.map((message) => (
          <li key={message.id} class={`message from-${message.author}`}>
            <span class="author">{AUTHORS[message.author] ?? message.author}</span>
            <p>{message.text ?? `[${message.type}]`}</p>
            <small>
              {formatTime(message.sentAt)}
              {message.direction === 'out' ? ` · ${message.status}` : ''}
              {message.error?.title ? ` · ${message.error.title}` : ''}
            </small>
          </li>
        ))}
      </ol>

      {mine && windowOpen ? (
        <form
          class="reply"
          onSubmit={(event) => {
            event.preventDefault();
            void send();
          }}
        >
          <label for="reply-text">Reply to the customer (Enter sends, Shift+Enter for a new line)</label>
          <textarea
            id="reply-text"
            ref={replyBox}
            rows={3}
            value={text}
            onInput={(event) => setText(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) {
                event.preventDefault();
                void send();
              }
            }}
          />
          <button type="submit" disabled={sending || text.trim() === ''}>
            Send
          </button>
        </form>
      ) : mine ? (
        <TemplateForm controller={controller} />
      ) : null}

      <details>
        <summary>AI decisions ({view.decisions.length})</summary>
        <ul class="decisions">
          {view.decisions.map((decision) => (
            <li key={`${decision.kind}-${decision.at}`}>
              {formatTime(decision.at)} ·{' '}
              {decision.kind === 'ai'
                ? `answered with confidence ${decision.confidence.toFixed(2)}`
                : decision.kind === 'fallback'
                  ? `handed off: ${REASONS[decision.reason] ?? decision.reason}`
                  : `handed back by ${decision.agentId}`}
            </li>
          ))}
        </ul>
      </details>
      <details>
        <summary>Handoff history ({view.handoffHistory.length})</summary>
        <ul class="handoffs">
          {view.handoffHistory.map((step) => (
            <li key={`${step.kind}-${step.at}`}>
              {formatTime(step.at)} · {step.kind.replaceAll('_', ' ')}
              {step.agentId ? ` · ${step.agentId}` : ''}
              {step.teamId ? ` · team ${step.teamId}` : ''}
            </li>
          ))}
        </ul>
      </details>
    </article>
  );
}
