import { loadConfig } from '../src/config/load-config.ts';
import { businessNumbersOf, createCustomers } from './load/customers.ts';
import { seededRandom } from './load/random.ts';
import { Traffic } from './load/traffic.ts';
import { WebhookSender } from './load/webhook-sender.ts';
import { ResourceMeter } from './phases/resource-meter.ts';
import { startEngineProcess } from './services/engine-process.ts';
import { startFakeGraphApi } from './services/fake-graph-api.ts';
import { createBenchDatabase, dropBenchDatabase } from './support/postgres.ts';

const config = await loadConfig('bench/botrelic.bench.yaml', process.env);
const numbers = businessNumbersOf(config);
const graph = await startFakeGraphApi(new Map(numbers.map((n) => [n.phoneNumberId, n.accessToken])));
const url = await createBenchDatabase('botrelic_bench_explore');
const engine = await startEngineProcess({ mode: 'services', configPath: 'bench/botrelic.bench.yaml', databaseUrl: url, appSecret: 's', graphUrl: graph.url, logFile: '/tmp/explore-engine.log', cpuProfileDir: process.env.PROF });
console.log('ENGINE_PID', engine.pid);
const sender = new WebhookSender(engine.origin, { appSecret: 's', connections: 64 });
const random = seededRandom(1);
const traffic = new Traffic({ customers: createCustomers(numbers, 15000, random), sender, random, skew: 1, duplicateShare: 0.05, statusShare: 0.3, reorderedShare: 0.25, batchedBurstShare: 0.4, thinkMs: { min: 6000, max: 12000 } });
graph.onReply = (r) => traffic.onReply(r);
const rate = Number(process.env.RATE ?? 100);
await traffic.offer('warm', rate, 4000);
await traffic.drain(20000);
const meter = new ResourceMeter(engine);
const before = meter.read();
const stats = await traffic.offer('x', rate, Number(process.env.MS ?? 10000));
const drained = await traffic.drain(20000);
console.log('drained', drained, 'waiting', traffic.waiting, 'inflight', sender.inFlight);
if (!drained) {
  const { createDatabase } = await import('../src/persistence/database.ts');
  const { sql } = await import('kysely');
  const db = (await createDatabase({ url })).db;
  for (const c of (traffic as any).options?.customers ?? []) void c;
  const waiting = [...traffic.messages.values()].filter((m) => m.customer.state === 'waiting');
  const keys = [...new Set(waiting.map((m) => `${m.customer.conversation.phoneNumberId}-${m.customer.conversation.waId}`))];
  for (const key of keys) {
    const s = await sql<any>`select state, version, snapshot->'context'->'timer' as timer, snapshot->'context'->'unanswered' as un from sessions where session_key = ${key}`.execute(db);
    const m = await sql<any>`select id, direction, status, applied_at is not null as applied, wamid, created_at from messages where session_key = ${key} order by id`.execute(db);
    const o = await sql<any>`select id, status, attempts, next_attempt_at, created_at from outbox where customer_wa_id = ${key.split('-')[1]} order by id`.execute(db);
    console.log(key, JSON.stringify(s.rows), '\n msgs', JSON.stringify(m.rows.slice(-6)), '\n outbox', JSON.stringify(o.rows.slice(-4)));
  }
}
const cpu = ResourceMeter.between(before, meter.read());
const seconds = (performance.now() - stats.startedAt) / 1000;
const perMessage = (cores: number) => ((cores * seconds) / stats.messages * 1000).toFixed(3);
console.log(`ack p50/p99 ${stats.ack.percentile(50).toFixed(1)}/${stats.ack.percentile(99).toFixed(1)} ms, first reply p50/p99 ${stats.firstReply.percentile(50).toFixed(0)}/${stats.firstReply.percentile(99).toFixed(0)} ms`);
console.log(`CPU ms per message: engine ${perMessage(cpu.engine)}, postgres ${perMessage(cpu.postgres)}, nats ${perMessage(cpu.nats)}, bench ${perMessage(cpu.bench)} (${stats.messages} messages, ${seconds.toFixed(1)} s, machine ${cpu.machineBusy})`);
await engine.stop();
await sender.close();
await graph.close();
await dropBenchDatabase('botrelic_bench_explore');
