import type { AnyStateNode } from 'xstate';
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

/** The session machine as a Mermaid state diagram: the README's diagram is this text, checked by a test. */
export function sessionMachineMermaid(): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${sessionMachine.root.initial?.target[0]?.key}`];
  const states = Object.values(sessionMachine.root.states) as AnyStateNode[];
  for (const state of states) {
    for (const [eventType, transitions] of state.transitions) {
      for (const transition of transitions) {
        const targets = transition.target ?? [state];
        const guard = guardName(transition.guard);
        for (const target of targets) {
          lines.push(`  ${state.key} --> ${target.key}: ${eventType}${guard ? ` [${guard}]` : ''}`);
        }
      }
    }
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
