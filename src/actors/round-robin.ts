/**
 * The agent after `last` in `agents` order, wrapping around, who holds fewer than `capacity` sessions; undefined
 * when everyone is full. Starting after the last one assigned spreads sessions evenly over the agents.
 */
export function nextAgent(
  agents: readonly string[],
  load: ReadonlyMap<string, number>,
  capacity: number,
  last: string | undefined,
): string | undefined {
  const start = last === undefined ? 0 : agents.indexOf(last) + 1;
  for (let offset = 0; offset < agents.length; offset++) {
    const agent = agents[(start + offset) % agents.length]!;
    if ((load.get(agent) ?? 0) < capacity) return agent;
  }
  return undefined;
}
