/**
 * Prints where a V8 CPU profile spent its time (see bench/report/cpu-profile.ts).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile>... [--top 40]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CpuProfile, formatProfileSummary, summarizeProfile } from './report/cpu-profile.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
for (const file of positionals) {
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  console.log(`${file}: ${formatProfileSummary(summary, Number(values.top ?? 40))}\n`);
}
