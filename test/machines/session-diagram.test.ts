import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sessionMachine } from '../../src/machines/session.ts';
import { sessionMachineMermaid } from '../../src/machines/session-diagram.ts';

describe('the session machine diagram', () => {
  it('in the README is the one the machine generates', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /<!-- machine:start -->\n```mermaid\n([\s\S]*?)\n```\n<!-- machine:end -->/.exec(readme);
    expect(block, 'README.md must hold the machine diagram between the machine markers').not.toBeNull();
    expect(block![1], 'README diagram is stale: paste `botrelic machine --mermaid` into it').toBe(
      sessionMachineMermaid(),
    );
  });

  it('names every state and every transition of the machine', () => {
    const diagram = sessionMachineMermaid();
    for (const [name, state] of Object.entries(sessionMachine.root.states)) {
      for (const eventType of state.transitions.keys()) {
        expect(diagram).toContain(`${name} --> `);
        expect(diagram).toContain(`: ${eventType}`);
      }
    }
    expect(diagram).toContain('fallback --> closed: session.timeout [timerDue and closesOnHandoffTimeout]');
  });

  it('draws the machine’s own (root) transitions in every state they apply to', () => {
    const diagram = sessionMachineMermaid();
    const rootEvents = [...sessionMachine.root.transitions.keys()];
    expect(rootEvents).toContain('message.status');
    for (const [name, state] of Object.entries(sessionMachine.root.states)) {
      for (const eventType of rootEvents) {
        const line = `  ${name} --> ${name}: ${eventType} (any state)`;
        if (state.type === 'final') expect(diagram).not.toContain(line);
        else expect(diagram).toContain(line);
      }
    }
  });

  it('is what `botrelic machine --mermaid` prints, and --json is the machine definition', async () => {
    const run = promisify(execFile);
    const mermaid = await run(process.execPath, ['bin/botrelic.js', 'machine', '--mermaid']);
    expect(mermaid.stdout.trim()).toBe(sessionMachineMermaid());
    const json = await run(process.execPath, ['bin/botrelic.js', 'machine', '--json']);
    const definition = JSON.parse(json.stdout) as { id: string; states: Record<string, unknown> };
    expect(definition.id).toBe('session');
    expect(Object.keys(definition.states)).toEqual(Object.keys(sessionMachine.root.states));
  });
});
