import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { sessionMachine } from './session.ts';

/** A guard's readable name: `timerDue`, or `timerDue and closesOnHandoffTimeout` for combinators. */
function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  // xstate's and()/or() are functions carrying their operands; their own name says which.
  if (typeof guard === 'function' && 'guards' in guard) {
    const operands = (guard as { guards: unknown[] }).guards.map(guardName);
    return operands.join(` ${guard.name} `);
  }
  return (guard as { type?: string }).type;
}

/** One transition as it can be taken in one state; `label` is its line in the diagram. */
export interface MachineEdge {
  state: AnyStateNode;
  transition: AnyTransitionDefinition;
  label: string;
}

function edgeOf(state: AnyStateNode, transition: AnyTransitionDefinition, suffix = ''): MachineEdge {
  const guard = guardName(transition.guard);
  // A targetless transition stays in the state it was taken in.
  const targets = (transition.target ?? [state]).map((target) => target.key).join(', ');
  const label = `${state.key} --> ${targets}: ${transition.eventType}${guard ? ` [${guard}]` : ''}${suffix}`;
  return { state, transition, label };
}

/**
 * Every transition of the machine, per state it can be taken in. The machine's own transitions (declared on the
 * root, not on a state) apply in every state that does not always handle the event itself; Mermaid has no edge
 * for the whole machine, so each such state gets its own.
 */
export function sessionMachineEdges(): MachineEdge[] {
  const edges: MachineEdge[] = [];
  for (const state of Object.values(sessionMachine.root.states) as AnyStateNode[]) {
    for (const transitions of state.transitions.values()) {
      for (const transition of transitions) edges.push(edgeOf(state, transition));
    }
    if (state.type === 'final') continue;
    for (const [eventType, transitions] of sessionMachine.root.transitions) {
      const handledAlways =
        state.transitions.get(eventType)?.some((transition) => !transition.guard) ?? false;
      if (handledAlways) continue;
      for (const transition of transitions) edges.push(edgeOf(state, transition, ' (any state)'));
    }
  }
  return edges;
}

/** The session machine as a Mermaid state diagram: the README's diagram is this text, checked by a test. */
export function sessionMachineMermaid(): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${sessionMachine.root.initial?.target[0]?.key}`];
  const edges = sessionMachineEdges();
  const states = Object.values(sessionMachine.root.states) as AnyStateNode[];
  for (const state of states) {
    for (const edge of edges) if (edge.state === state) lines.push(`  ${edge.label}`);
    if (state.type === 'final') lines.push(`  ${state.key} --> [*]`);
  }
  for (const state of states) {
    if (state.description) lines.push(`  note right of ${state.key}: ${state.description}`);
  }
  return lines.join('\n');
}

export function sessionMachineJson(): unknown {
  return sessionMachine.toJSON();
}
