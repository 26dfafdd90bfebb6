import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import type { SessionStore } from '../persistence/session-store.ts';
import type { ActorHost } from './actor-host.ts';

/** States whose session is doing something (an invoked AI call) rather than waiting for someone. */
const IN_FLIGHT_STATES = ['ai_responding'];

export interface SweeperOptions {
  host: ActorHost;
  store: SessionStore;
  clock: Clock;
  logger: Logger;
  /** The partitions this node owns: it sweeps only those, so two nodes never sweep the same session. */
  partitions: () => readonly number[];
  intervalMs: number;
  /** Inbound rows still unapplied this long after arrival are redelivered (their notice was lost). */
  stalledInboundMs: number;
  batchSize?: number;
}

/**
 * The durable half of timers and notices: deadlines are stored with each session, and inbound rows
 * wait in the store until applied, so whatever an in-memory timer or a NATS notice missed (a
 * passivated actor, a crashed process, a dropped message) is found here and delivered.
 */
export class Sweeper {
  readonly #options: SweeperOptions;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SweeperOptions) {
    this.#options = options;
  }

  /**
   * Resumes work that was in flight when the partitions' previous owner stopped (a session composing
   * an AI reply has no deadline soon enough to wait for), then sweeps on the interval.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    const { host, store } = this.#options;
    const inFlight = await store.listSessionsInStates(this.#options.partitions(), IN_FLIGHT_STATES, 10_000);
    await Promise.all(inFlight.map((address) => host.wake(address)));
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  /** One pass: fire due deadlines, redeliver stalled inbound rows, passivate idle actors. */
  async sweep(): Promise<{ timeouts: number; redelivered: number; passivated: number }> {
    const { host, store, clock } = this.#options;
    const partitions = this.#options.partitions();
    const limit = this.#options.batchSize ?? 500;
    const now = clock.now();
    const due = await store.listDueSessions(partitions, now, limit);
    const stalled = await store.listStalledInbound(partitions, now - this.#options.stalledInboundMs, limit);
    await Promise.all([
      ...due.map((address) => host.fireTimeout(address)),
      ...stalled.map((address) => host.deliverInbound(address)),
    ]);
    const passivated = host.passivateIdle();
    return { timeouts: due.length, redelivered: stalled.length, passivated };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimer(() => {
      this.#running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.#options.logger.error({ err: error }, 'sweep failed'))
        .finally(() => this.#schedule());
    }, this.#options.intervalMs);
  }
}
