/**
 * The agent after `last` in `agents` order, wrapping around, who holds fewer sessions than their capacity;
 * undefined when everyone is full. Starting after the last one assigned spreads sessions evenly over the agents.
 */
export function nextAgent(
  agents: readonly string[],
  load: ReadonlyMap<string, number>,
  capacityOf: (agent: string) => number,
  last: string | undefined,
): string | undefined {
  const start = last === undefined ? 0 : agents.indexOf(last) + 1;
  for (let offset = 0; offset < agents.length; offset++) {
    const agent = agents[(start + offset) % agents.length]!;
    if ((load.get(agent) ?? 0) < capacityOf(agent)) return agent;
  }
  return undefined;
}
