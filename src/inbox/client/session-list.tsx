import type { SessionSummary } from '../../gateway/agent-api-schemas.ts';
import { formatDuration, REASONS } from './format.ts';

interface SessionListProps {
  id: string;
  title: string;
  sessions: SessionSummary[];
  selectedId: string | null;
  now: number;
  empty: string;
  onSelect(sessionId: string): void;
}

export function customerLabel(summary: Pick<SessionSummary, 'customer'>): string {
  return summary.customer.name
    ? `${summary.customer.name} (+${summary.customer.waId})`
    : `+${summary.customer.waId}`;
}

/** One of the inbox's lists; each session is a button, so Tab and Enter are all it takes. */
export function SessionList({ id, title, sessions, selectedId, now, empty, onSelect }: SessionListProps) {
  return (
    <section class="session-list" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {title} <span class="count">{sessions.length}</span>
      </h2>
      {sessions.length === 0 ? (
        <p class="empty">{empty}</p>
      ) : (
        <ul>
          {sessions.map((summary) => (
            <li key={summary.sessionId}>
              <button
                type="button"
                class="session"
                data-session-id={summary.sessionId}
                aria-current={summary.sessionId === selectedId ? 'true' : undefined}
                onClick={() => onSelect(summary.sessionId)}
              >
                <strong>{customerLabel(summary)}</strong>
                {summary.state === 'fallback' && summary.handoff ? (
                  <span class="meta">
                    {REASONS[summary.handoff.reason] ?? summary.handoff.reason} · waiting{' '}
                    {formatDuration(now - summary.handoff.requestedAt)}
                    {summary.handoff.teamId ? ` · ${summary.handoff.teamId}` : ''}
                  </span>
                ) : (
                  <span class="meta">
                    {summary.handoff?.agentId ? `with ${summary.handoff.agentId}` : summary.state}
                  </span>
                )}
                {summary.lastMessage ? <span class="preview">{summary.lastMessage}</span> : null}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
