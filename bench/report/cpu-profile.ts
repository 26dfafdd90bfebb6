/**
 * Reads a V8 .cpuprofile (node --cpu-prof), since no flame graph viewer is at hand: self time and inclusive
 * time by function, and self time by package or source folder.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: { name: string; selfMs: number; totalMs: number }[];
  byArea: { area: string; selfMs: number }[];
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Each sample's delta is the time until the next sample: the time spent where the sample landed.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);

  const functions = new Map<string, { selfMs: number; totalMs: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id)!;
    const name = functionKey(node);
    const entry = functions.get(name) ?? { selfMs: 0, totalMs: 0 };
    entry.selfMs += us / 1000;
    functions.set(name, entry);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us / 1000);
    // Inclusive time: every distinct function on the stack above this sample gets it once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = functionKey(nodes.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      const ancestor = functions.get(key) ?? { selfMs: 0, totalMs: 0 };
      ancestor.totalMs += us / 1000;
      functions.set(key, ancestor);
    }
  }
  return {
    totalMs: totalUs / 1000,
    byFunction: [...functions].map(([name, times]) => ({ name, ...times })),
    byArea: [...areas].map(([area, selfMs]) => ({ area, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(src|bench|test)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/** Where time goes, coarsely: a package, a folder of ours, Node's internals, or V8 itself (GC, idle). */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  const ours = /\/(src|bench|test)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

function pct(ms: number, total: number): string {
  return `${((ms / total) * 100).toFixed(1).padStart(5)}%`;
}

/** The summary as text: the areas, then the `top` functions by self time and ours by inclusive time. */
export function formatProfileSummary(summary: ProfileSummary, top: number): string {
  const total = summary.totalMs;
  const lines = [`${(total / 1000).toFixed(1)} s sampled`, '', 'self time by area'];
  for (const { area, selfMs } of summary.byArea.slice(0, 25)) {
    lines.push(`${pct(selfMs, total)} ${selfMs.toFixed(0).padStart(8)} ms  ${area}`);
  }
  lines.push('', 'self time by function');
  for (const fn of [...summary.byFunction].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    lines.push(`${pct(fn.selfMs, total)} ${fn.selfMs.toFixed(0).padStart(8)} ms  ${fn.name}`);
  }
  lines.push('', 'inclusive time by function (src/ only)');
  const ours = summary.byFunction.filter((fn) => / src\//.test(fn.name));
  for (const fn of ours.sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
    lines.push(`${pct(fn.totalMs, total)} ${fn.totalMs.toFixed(0).padStart(8)} ms  ${fn.name}`);
  }
  return lines.join('\n');
}
