import type { CommandAccepted, SessionView } from '../gateway/agent-api-schemas.ts';
import type { SandboxView } from '../gateway/sandbox-schemas.ts';
import type { SandboxOutboxMessage } from '../persistence/sandbox-outbox-queries.ts';
import type { SimulatedMessage } from '../whatsapp/simulated-message.ts';

/** A refusal of the API, with its stable code (`session_not_found`, `no_pending_timeout`, ...). */
export class SandboxApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxApiError';
  }
}

/** What the simulated customer sends: text, or a Meta message object (a button reply, an image...). */
export type CustomerInput = { text: string } | { message: SimulatedMessage };

/**
 * The HTTP APIs the simulator plays with, as an agent of one workspace: the sandbox messages API (the customer
 * writes), the sandbox outbox (what reached the customer's phone), the advance route, the session detail and the
 * live event stream. `baseUrl` is empty in the page
 * (same origin) and the engine's address in `botrelic chat`.
 */
export function createSandboxApiClient(options: { token: string; baseUrl?: string }) {
  const { token } = options;
  const base = options.baseUrl?.replace(/\/$/, '') ?? '';

  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => null)) as { error?: string; message?: string } | null;
    if (!response.ok) {
      throw new SandboxApiError(
        response.status,
        payload?.error ?? 'http_error',
        payload?.message ?? response.statusText,
      );
    }
    return payload as T;
  }

  const session = (id: string) => `/api/sessions/${encodeURIComponent(id)}`;
  return {
    sandbox: () => request<SandboxView>('GET', '/api/sandbox'),
    send: (workspaceId: string, from: string, phoneNumberId: string, input: CustomerInput) =>
      request<{ wamid: string; sessionKey: string }>(
        'POST',
        `/api/workspaces/${encodeURIComponent(workspaceId)}/sandbox/messages`,
        { from, phoneNumberId, ...input },
      ),
    /** What the sandbox delivered to this customer's phone after message `after`, oldest first. */
    outbox: (workspaceId: string, to: string, after = '0') =>
      request<{ messages: SandboxOutboxMessage[] }>(
        'GET',
        `/api/workspaces/${encodeURIComponent(workspaceId)}/sandbox/outbox?to=${to}&after=${after}`,
      ),
    advance: (sessionId: string) => request<CommandAccepted>('POST', `${session(sessionId)}/advance`),
    session: (sessionId: string) => request<SessionView>('GET', session(sessionId)),
    /** The workspace's Server-Sent Events; the caller reads the body. */
    events: (signal: AbortSignal, lastEventId?: string) =>
      fetch(`${base}/api/events`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal,
      }),
  };
}

export type SandboxApiClient = ReturnType<typeof createSandboxApiClient>;
