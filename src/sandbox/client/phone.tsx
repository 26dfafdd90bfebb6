import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionView } from '../../gateway/agent-api-schemas.ts';
import { buttonReply, messageOfType } from '../../whatsapp/simulated-message.ts';
import type { SandboxController } from './sandbox-controller.ts';

type Message = SessionView['transcript'][number];

const AUTHORS: Record<string, string> = { ai: 'AI', agent: 'Agent', system: 'Automatic' };

/** WhatsApp's ticks: one grey when sent, two grey when delivered, two blue when read. */
const TICKS: Record<string, { mark: string; label: string }> = {
  pending: { mark: '🕓', label: 'not sent yet' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  read: { mark: '✓✓', label: 'read' },
  failed: { mark: '!', label: 'failed' },
};

const time = (at: number) => new Date(at).toLocaleTimeString(undefined, { timeStyle: 'short' });

function Body({ message }: { message: Message }) {
  if (message.type === 'image') {
    return (
      <p>
        <span class="media">📷 Photo</span>
        {message.text ? ` ${message.text}` : ''}
      </p>
    );
  }
  if (message.type === 'interactive' || message.type === 'button') return <p>↩ {message.text}</p>;
  return <p>{message.text ?? `[${message.type}]`}</p>;
}

function Bubble({ message }: { message: Message }) {
  const outbound = message.direction === 'out';
  const tick = outbound ? TICKS[message.status] : undefined;
  return (
    <li class={`bubble ${outbound ? 'from-business' : 'from-customer'}`} data-author={message.author}>
      {outbound ? <span class="author">{AUTHORS[message.author] ?? message.author}</span> : null}
      <Body message={message} />
      <small>
        {time(message.sentAt)}
        {tick ? (
          <span class={`ticks ${message.status}`} title={tick.label}>
            {' '}
            <span aria-hidden="true">{tick.mark}</span>
            <span class="visually-hidden">{tick.label}</span>
          </span>
        ) : null}
        {message.error?.title ? ` ${message.error.title}` : ''}
      </small>
    </li>
  );
}

/** The customer's phone: the thread, and what the customer can send (text, a reply button, a photo). */
export function Phone({
  title,
  view,
  controller,
}: {
  title: string;
  view: SessionView | null;
  controller: SandboxController;
}) {
  const [text, setText] = useState('');
  const [buttonId, setButtonId] = useState('talk_to_human');
  const [buttonTitle, setButtonTitle] = useState('Talk to a person');
  const [caption, setCaption] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const thread = useRef<HTMLOListElement>(null);
  const messages = view?.transcript ?? [];

  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    thread.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  return (
    <section class="phone" aria-labelledby="phone-title">
      <header class="phone-top">
        <h2 id="phone-title">{title}</h2>
      </header>
      <ol class="thread" ref={thread} aria-label="Conversation" aria-live="polite">
        {messages.length === 0 ? <li class="empty">Write something to start a conversation.</li> : null}
        {messages.map((message) => (
          <Bubble key={message.id} message={message} />
        ))}
      </ol>
      <form
        class="composer"
        onSubmit={async (event) => {
          event.preventDefault();
          if (text.trim() && (await controller.sendText(text.trim()))) setText('');
        }}
      >
        <input
          ref={input}
          aria-label="Message as the customer"
          placeholder="Message"
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit" disabled={text.trim() === ''}>
          Send
        </button>
      </form>
      <div class="extras">
        <form
          aria-label="Reply button"
          onSubmit={(event) => {
            event.preventDefault();
            void controller.sendMessage(buttonReply(buttonId.trim(), buttonTitle.trim()));
          }}
        >
          <label>
            Button id{' '}
            <input value={buttonId} size={10} onInput={(event) => setButtonId(event.currentTarget.value)} />
          </label>
          <label>
            title{' '}
            <input
              value={buttonTitle}
              size={12}
              onInput={(event) => setButtonTitle(event.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={!buttonId.trim() || !buttonTitle.trim()}>
            Tap button
          </button>
        </form>
        <form
          aria-label="Photo"
          onSubmit={async (event) => {
            event.preventDefault();
            const fields = caption.trim() ? { caption: caption.trim() } : {};
            if (await controller.sendMessage(messageOfType('image', fields))) setCaption('');
          }}
        >
          <label>
            Photo caption{' '}
            <input value={caption} size={14} onInput={(event) => setCaption(event.currentTarget.value)} />
          </label>
          <button type="submit">Send photo</button>
        </form>
      </div>
    </section>
  );
}
