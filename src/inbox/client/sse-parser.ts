export interface ServerSentEvent {
  /** The stream's last event id when this event was dispatched ('' before any). */
  lastEventId: string;
  event: string;
  data: string;
}

/**
 * The text/event-stream format (WHATWG HTML, "Server-sent events"), parsed from chunks as they arrive. The
 * inbox reads its stream with fetch rather than EventSource because EventSource cannot send the agent's token.
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  lastEventId = '';

  push(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk;
    const events: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.#buffer.length - 1)) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    return undefined;
  }

  #dispatch(): ServerSentEvent | undefined {
    const data = this.#data;
    const event = this.#event || 'message';
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return undefined;
    return { lastEventId: this.lastEventId, event, data: data.join('\n') };
  }
}
