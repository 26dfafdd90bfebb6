import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ManualClock } from '../clock/manual-clock.ts';
import type { Environment } from '../config/environment.ts';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import { createConversationQueries } from '../persistence/conversation-queries.ts';
import { startSandboxEngine } from '../sandbox/sandbox-engine.ts';
import { HeldReplyAgent } from './held-reply-agent.ts';
import {
  type ConversationDeps,
  type ConversationTarget,
  ScenarioConversation,
  type TranscriptLine,
} from './scenario-conversation.ts';
import { checkExpectation } from './scenario-expectations.ts';
import { readScenario, type Scenario, ScenarioFileError, type ScenarioStep } from './scenario-file.ts';

export interface StepResult {
  step: ScenarioStep;
  status: 'passed' | 'failed' | 'skipped';
  failure?: { expected: string; got: string };
}

export interface ScenarioResult {
  file: string;
  name: string;
  passed: boolean;
  steps: StepResult[];
  transcript: TranscriptLine[];
  /** Why the scenario could not run at all: a bad file, an unknown workspace. */
  problem?: string;
}

export interface ScenarioRunOptions {
  config: BotrelicConfig;
  env: Environment;
  logger: Logger;
  /** Called as each scenario finishes, so a report can print as it goes. */
  onResult?: (result: ScenarioResult) => void;
}

const AGENT_DOES = {
  takeover: 'takes over',
  release: 'releases the session to the AI',
  close: 'closes the session',
};

/** Reads and runs scenario files, one after another, each as its own customer of one in-process engine. */
export async function runScenarioFiles(
  files: readonly string[],
  options: ScenarioRunOptions,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const report = (result: ScenarioResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  const scenarios: Scenario[] = [];
  for (const file of files) {
    try {
      scenarios.push(await readScenario(file));
    } catch (error) {
      if (!(error instanceof ScenarioFileError)) throw error;
      report(unrunnable(file, file, error.problems.join('\n')));
    }
  }
  if (scenarios.length === 0) return results;

  const clock = new ManualClock();
  let agent: HeldReplyAgent | undefined;
  const sandbox = await startSandboxEngine({
    config: options.config,
    env: options.env,
    logger: options.logger,
    clock,
    wrapReplyAgent: (real) => {
      agent = new HeldReplyAgent(real);
      return agent;
    },
  });
  try {
    const deps: ConversationDeps = {
      engine: sandbox.engine,
      clock,
      agent: agent!,
      queries: createConversationQueries(sandbox.engine.database.db),
    };
    const customers = new Set<string>();
    for (const scenario of scenarios) {
      const target = resolveTarget(scenario, sandbox.config, customers);
      report(
        typeof target === 'string'
          ? unrunnable(scenario.file, scenario.name, target)
          : await runScenario(scenario, new ScenarioConversation(deps, target)),
      );
    }
  } finally {
    await sandbox.stop();
  }
  return results;
}

async function runScenario(scenario: Scenario, conversation: ScenarioConversation): Promise<ScenarioResult> {
  const steps: StepResult[] = [];
  let failed = false;
  for (const step of scenario.steps) {
    if (failed) {
      steps.push({ step, status: 'skipped' });
      continue;
    }
    let failure: StepResult['failure'];
    try {
      failure = await runStep(step, conversation);
    } catch (error) {
      failure = { expected: 'the step to run', got: `an error: ${(error as Error).message}` };
    }
    failed = failure !== undefined;
    steps.push({ step, status: failed ? 'failed' : 'passed', ...(failure ? { failure } : {}) });
  }
  return {
    file: scenario.file,
    name: scenario.name,
    passed: !failed,
    steps,
    transcript: conversation.transcript,
  };
}

async function runStep(
  step: ScenarioStep,
  conversation: ScenarioConversation,
): Promise<StepResult['failure']> {
  // Deliveries leave the AI composing, so lines in a row arrive as a burst; every other step lets it finish.
  const delivers =
    step.kind === 'customer' || step.kind === 'stale' || step.kind === 'reorder' || step.kind === 'duplicate';
  if (!delivers) {
    await conversation.settle();
    await conversation.observe();
  }
  switch (step.kind) {
    case 'customer':
      await conversation.deliver([step.message]);
      break;
    case 'stale':
      await conversation.deliver([step.message], { ageMs: step.ageMs });
      break;
    case 'reorder':
      conversation.note('two messages arrive in one webhook, the later one first');
      await conversation.deliver(step.messages, { arrival: [1, 0] });
      break;
    case 'duplicate':
      if (!(await conversation.redeliverLast())) {
        return { expected: 'a delivery to repeat', got: 'no customer message was delivered yet' };
      }
      conversation.note('Meta delivers the last webhook again');
      break;
    case 'agent': {
      const refused = await conversation.command(step.action);
      if (refused)
        return {
          expected: `the session to accept: agent ${step.source.replace(/^agent: /, '')}`,
          got: refused,
        };
      if (step.action.type !== 'reply') conversation.note(`the agent ${AGENT_DOES[step.action.type]}`);
      break;
    }
    case 'advance':
      conversation.note(`time passes: ${step.source.replace(/^advance: /, '')}`);
      await conversation.advance(step.ms);
      break;
    case 'expect': {
      const result = await checkExpectation(step.expect, conversation);
      return result.ok ? undefined : { expected: result.expected, got: result.got };
    }
  }
  await conversation.observe();
  return undefined;
}

/** The workspace, number, customer and agent a scenario plays, or why it cannot be played. */
function resolveTarget(
  scenario: Scenario,
  config: BotrelicConfig,
  customers: Set<string>,
): ConversationTarget | string {
  const workspace = scenario.workspace
    ? config.workspaces.find((candidate) => candidate.id === scenario.workspace)
    : scenario.phoneNumber
      ? config.workspaces.find((candidate) =>
          candidate.phoneNumbers.some((number) => number.phoneNumberId === scenario.phoneNumber),
        )
      : config.workspaces[0];
  const known = config.workspaces.map((candidate) => candidate.id).join(', ');
  if (!workspace) {
    return scenario.workspace
      ? `workspace "${scenario.workspace}" is not in the config (it has ${known})`
      : `phone number ${scenario.phoneNumber} belongs to no workspace of the config`;
  }
  const phoneNumberId = scenario.phoneNumber ?? workspace.phoneNumbers[0]!.phoneNumberId;
  if (!workspace.phoneNumbers.some((number) => number.phoneNumberId === phoneNumberId)) {
    return `phone number ${phoneNumberId} is not a number of workspace ${workspace.id}`;
  }
  const agents = workspace.humanTeams.flatMap((team) => team.agents.map((agent) => agent.id));
  if (scenario.humanAgent && !agents.includes(scenario.humanAgent)) {
    return `humanAgent "${scenario.humanAgent}" is not an agent of workspace ${workspace.id} (it has ${agents.join(', ') || 'none'})`;
  }
  const waId = scenario.customer.waId ?? customerFor(scenario.file, customers);
  if (customers.has(waId) && scenario.customer.waId) {
    return `customer.waId ${waId} is already used by another scenario of this run: each needs its own customer`;
  }
  customers.add(waId);
  return {
    workspaceId: workspace.id,
    phoneNumberId,
    customer: { waId, ...(scenario.customer.name ? { name: scenario.customer.name } : {}) },
    agentId: scenario.humanAgent ?? agents[0] ?? 'scenario-agent',
  };
}

/** A stable wa_id per scenario file, so a transcript names the same customer from run to run. */
function customerFor(file: string, taken: Set<string>): string {
  let n = createHash('sha256').update(file).digest().readUInt32BE(0) % 100_000_000;
  while (taken.has(`1555${String(n).padStart(8, '0')}`)) n = (n + 1) % 100_000_000;
  return `1555${String(n).padStart(8, '0')}`;
}

function unrunnable(file: string, name: string, problem: string): ScenarioResult {
  return { file, name, passed: false, steps: [], transcript: [], problem };
}
