import { z } from 'zod';
const o = JSON.parse('{"a":"x","__proto__":{"polluted":1},"constructor":{"prototype":{"p":1}}}');
const r = z.looseObject({ a: z.string() }).parse(o);
console.log(Object.keys(r), (r as any).polluted, Object.getPrototypeOf(r) === Object.prototype, ({} as any).polluted);
// deep nesting
const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
try { JSON.parse(deep); console.log('parsed deep'); } catch (e) { console.log('deep error', (e as Error).message); }
try { JSON.stringify(JSON.parse(deep)); console.log('stringified deep'); } catch (e) { console.log('stringify error', (e as Error).message); }
