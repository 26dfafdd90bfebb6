import type { CommandAccepted, InboxView, SessionView } from '../../gateway/agent-api-schemas.ts';

/** A refusal of the agent API, with its stable code (`already_taken`, `outside_service_window`, ...). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

type Command = 'takeover' | 'release' | 'close';

/** The agent API as the inbox page calls it: same origin, the agent's token in the Authorization header. */
export function createAgentApiClient(token: string) {
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => null)) as
      | (T & { error?: undefined })
      | { error: string; message: string }
      | null;
    if (!response.ok) {
      const problem =
        payload && 'message' in payload ? payload : { error: 'http_error', message: response.statusText };
      throw new ApiProblem(response.status, problem.error ?? 'http_error', problem.message);
    }
    return payload as T;
  }

  const session = (id: string) => `/api/sessions/${encodeURIComponent(id)}`;
  return {
    inbox: () => request<InboxView>('GET', '/api/inbox'),
    session: (id: string) => request<SessionView>('GET', session(id)),
    command: (id: string, command: Command) => request<CommandAccepted>('POST', `${session(id)}/${command}`),
    reply: (id: string, text: string) =>
      request<CommandAccepted>('POST', `${session(id)}/messages`, { text }),
    template: (id: string, template: { name: string; language: string }) =>
      request<CommandAccepted>('POST', `${session(id)}/templates`, template),
    setAvailable: (available: boolean) =>
      request<{ available: boolean }>('POST', '/api/agents/me/availability', { available }),
  };
}

export type AgentApiClient = ReturnType<typeof createAgentApiClient>;
