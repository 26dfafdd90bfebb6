import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioFileError } from '../../src/scenarios/scenario-file.ts';

function problemsOf(source: string): string[] {
  try {
    parseScenario('bad.yaml', source);
  } catch (error) {
    if (error instanceof ScenarioFileError) return error.problems;
    throw error;
  }
  throw new Error('expected the scenario to be refused');
}

describe('scenario files', () => {
  it('reads every kind of step, with its number, line and source', () => {
    const scenario = parseScenario(
      'ok.yaml',
      `name: Every step
customer: { waId: "34600111222", name: Ana }
steps:
  - customer: "hi"
  - customer: { button: { id: talk_to_human, title: Talk to a person } }
  - customer: { image: { caption: broken } }
  - customer: { location: { latitude: 40.4, longitude: -3.7 } }
  - expect: { reply: "exact", state: active }
  - expect: { reply: { regex: "^Let me", flags: i } }
  - expect: { reply: { mentions: returns-and-refunds.md }, fallback: keyword }
  - expect: { noReply: true, order: [a, b] }
  - agent: takeover
  - agent: { reply: "on it" }
  - advance: 16m
  - duplicate: last
  - reorder: ["first", "second"]
  - stale: { customer: "late", age: 3h }
`,
    );
    expect(scenario.customer).toEqual({ waId: '34600111222', name: 'Ana' });
    expect(scenario.steps.map((step) => [step.number, step.line, step.kind])).toEqual([
      [1, 4, 'customer'],
      [2, 5, 'customer'],
      [3, 6, 'customer'],
      [4, 7, 'customer'],
      [5, 8, 'expect'],
      [6, 9, 'expect'],
      [7, 10, 'expect'],
      [8, 11, 'expect'],
      [9, 12, 'agent'],
      [10, 13, 'agent'],
      [11, 14, 'advance'],
      [12, 15, 'duplicate'],
      [13, 16, 'reorder'],
      [14, 17, 'stale'],
    ]);
    const [text, button, image, location, exact, regex, mentions, noReply, takeover, reply, advance] =
      scenario.steps;
    expect(text).toMatchObject({ message: { type: 'text', text: { body: 'hi' } }, source: 'customer: hi' });
    expect(button).toMatchObject({
      message: {
        type: 'interactive',
        interactive: {
          type: 'button_reply',
          button_reply: { id: 'talk_to_human', title: 'Talk to a person' },
        },
      },
    });
    expect(image).toMatchObject({
      message: { type: 'image', image: { caption: 'broken', mime_type: 'image/jpeg' } },
    });
    expect(location).toMatchObject({ message: { type: 'location', location: { latitude: 40.4 } } });
    expect(exact).toMatchObject({ expect: { reply: { text: 'exact' }, state: 'active' } });
    expect(regex).toMatchObject({ expect: { reply: { regex: /^Let me/iu } } });
    expect(mentions).toMatchObject({
      expect: { reply: { mentions: 'returns-and-refunds.md' }, fallback: 'keyword' },
    });
    expect(noReply).toMatchObject({ expect: { noReply: true, order: ['a', 'b'] } });
    expect(takeover).toMatchObject({ action: { type: 'takeover' } });
    expect(reply).toMatchObject({ action: { type: 'reply', text: 'on it' } });
    expect(advance).toMatchObject({ ms: 16 * 60_000 });
    expect(scenario.steps[12]).toMatchObject({
      messages: [{ text: { body: 'first' } }, { text: { body: 'second' } }],
    });
    expect(scenario.steps[13]).toMatchObject({ ageMs: 3 * 3_600_000, message: { text: { body: 'late' } } });
  });

  it('refuses a bad file with every problem, each naming its step and line', () => {
    const problems = problemsOf(`name: bad
colour: blue
steps:
  - customer: { location: {} }
  - expect: { reply: { regex: "(" } }
  - expect: { state: waiting }
  - agent: dance
  - advance: soon
  - duplicate: first
  - reorder: ["only one"]
  - stale: { customer: "x" }
  - shout: "hi"
  - expect: { rply: "x" }
  - customer: { button: { id: x } }
  - expect: { reply: "x", noReply: true }
`);
    expect(problems).toEqual([
      expect.stringMatching(/^unknown field "colour"/),
      'step 1 (line 4): not a WhatsApp message: customer.location.latitude: required; customer.location.longitude: required',
      expect.stringMatching(/^step 2 \(line 5\): expect\.reply\.regex: Invalid regular expression/),
      'step 3 (line 6): expect.state must be one of active, ai_responding, fallback, human, closed; got "waiting"',
      'step 4 (line 7): agent must be one of takeover, release, close; got "dance"',
      expect.stringMatching(/^step 5 \(line 8\): advance: expected a duration like 90s/),
      'step 6 (line 9): duplicate must be "last" (the last customer delivery, again)',
      'step 7 (line 10): reorder must list two customer messages, in the order the customer sent them',
      'step 8 (line 11): stale must be { customer: <message>, age: <how long ago it was sent, e.g. 3h> }',
      expect.stringMatching(/^step 9 \(line 12\): a step must be one of customer, expect, agent, advance/),
      expect.stringMatching(/^step 10 \(line 13\): an expect key must be one of reply, noReply/),
      'step 11 (line 14): customer.button.title must be non-empty text',
      'step 12 (line 15): expect cannot ask for a reply and noReply',
    ]);
  });

  it('needs a name and steps, and says where YAML itself is broken', () => {
    expect(problemsOf('steps: []\n')).toEqual([
      'name is missing: say what the conversation shows',
      'steps must be a list of at least one step',
    ]);
    expect(problemsOf('name: [oops\n')).toEqual([expect.stringMatching(/^line 2, column 1: /)]);
    expect(problemsOf('- just a list\n')).toEqual(['a scenario is a mapping with a name and steps']);
  });
});
