import { readFile } from 'node:fs/promises';
import { type Document, isMap, isSeq, LineCounter, parseDocument, stringify } from 'yaml';
import { parseDuration } from '../config/duration.ts';
import { type FallbackReason, sessionMachine } from '../machines/session.ts';
import {
  buttonReply,
  deliveredMessage,
  messageOfType,
  type SimulatedMessage,
  textMessage,
  webhookOf,
} from '../whatsapp/simulated-message.ts';
import { parseWebhookPayload, WebhookPayloadError } from '../whatsapp/webhook-payload.ts';

export type ReplyExpectation = { text: string } | { regex: RegExp } | { mentions: string };

/** What an `expect` step checks; several at once are checked in this order. */
export interface Expectation {
  reply?: ReplyExpectation;
  noReply?: true;
  state?: string;
  fallback?: FallbackReason;
  order?: string[];
}

export type AgentAction = { type: 'takeover' | 'release' | 'close' } | { type: 'reply'; text: string };

export type StepAction =
  | { kind: 'customer'; message: SimulatedMessage }
  | { kind: 'expect'; expect: Expectation }
  | { kind: 'agent'; action: AgentAction }
  | { kind: 'advance'; ms: number }
  | { kind: 'duplicate' }
  | { kind: 'reorder'; messages: [SimulatedMessage, SimulatedMessage] }
  | { kind: 'stale'; message: SimulatedMessage; ageMs: number };

export type ScenarioStep = StepAction & {
  /** 1-based, as the report names it. */
  number: number;
  line: number;
  /** The step as written, on one line. */
  source: string;
};

export interface Scenario {
  file: string;
  name: string;
  workspace?: string;
  phoneNumber?: string;
  customer: { waId?: string; name?: string };
  /** The human agent who acts in `agent` steps; the workspace's first agent by default. */
  humanAgent?: string;
  steps: ScenarioStep[];
}

/** A scenario file that cannot be run: every problem, each naming the step and line it is about. */
export class ScenarioFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ScenarioFileError';
  }
}

const STATES = Object.keys(sessionMachine.states);
// A Record, so the compiler insists every reason of the machine is listed.
const FALLBACK_REASONS = Object.keys({
  keyword: true,
  low_confidence: true,
  unsupported: true,
  loop: true,
  ai_error: true,
  customer_request: true,
} satisfies Record<FallbackReason, true>);
const STEP_KINDS = ['customer', 'expect', 'agent', 'advance', 'duplicate', 'reorder', 'stale'] as const;
const EXPECTATIONS = ['reply', 'noReply', 'state', 'fallback', 'order'] as const;
const AGENT_ACTIONS = ['takeover', 'release', 'close'] as const;
const TOP_LEVEL = ['name', 'description', 'workspace', 'phoneNumber', 'customer', 'humanAgent', 'steps'];
const DIGITS = /^\d{1,32}$/;

/** Thrown by the readers below with a message that names the field; the caller adds the step. */
class Problem extends Error {}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Problem(`${field} must be non-empty text`);
  return value;
}

/** Exactly one key: `{ customer: ... }`, `{ reply: ... }`, `{ button: ... }`. */
function singleKey(value: unknown, what: string): [string, unknown] {
  if (!isRecord(value) || Object.keys(value).length !== 1) {
    throw new Problem(`${what} must be a mapping with exactly one key`);
  }
  return Object.entries(value)[0]!;
}

function readDuration(value: unknown, field: string): number {
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error('expected a duration');
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('expected a duration longer than 0');
    return ms;
  } catch (error) {
    throw new Problem(`${field}: ${(error as Error).message} (e.g. 90s, 16m, 3h)`);
  }
}

/**
 * A customer message: text, `{ button: { id, title } }`, or any Meta type as `{ <type>: <fields> }`
 * (`{ image: { caption: "..." } }`, `{ location: { latitude, longitude } }`), checked by Meta's parser.
 */
function readCustomerMessage(value: unknown, field: string): SimulatedMessage {
  if (typeof value === 'string') return textMessage(text(value, field));
  const [type, fields] = singleKey(value, `${field} (unless it is text)`);
  let message: SimulatedMessage;
  if (type === 'text') message = textMessage(text(fields, `${field}.text`));
  else if (type === 'button') {
    if (!isRecord(fields)) throw new Problem(`${field}.button must be { id, title }`);
    message = buttonReply(text(fields.id, `${field}.button.id`), text(fields.title, `${field}.button.title`));
  } else {
    if (fields !== null && !isRecord(fields))
      throw new Problem(`${field}.${type} must be a mapping of Meta's fields`);
    message = messageOfType(type, fields ?? {});
  }
  try {
    const delivered = deliveredMessage(message, { from: '1', wamid: 'check', sentAt: 0 });
    parseWebhookPayload(webhookOf('1', [delivered]), { strictContent: true });
  } catch (error) {
    if (!(error instanceof WebhookPayloadError)) throw error;
    const problems = error.problems.map((problem) =>
      problem.replace(/^entry\[0\]\.changes\[0\]\.value\.messages\[0\]\.?/, `${field}.`),
    );
    throw new Problem(`not a WhatsApp message: ${problems.join('; ')}`);
  }
  return message;
}

function readReplyExpectation(value: unknown): ReplyExpectation {
  if (typeof value === 'string') return { text: value };
  const shape = 'expect.reply must be text, { regex: "..." } or { mentions: "..." }';
  if (!isRecord(value)) throw new Problem(shape);
  if (typeof value.mentions === 'string' && Object.keys(value).length === 1) {
    return { mentions: text(value.mentions, 'expect.reply.mentions') };
  }
  if (
    typeof value.regex === 'string' &&
    Object.keys(value).every((key) => key === 'regex' || key === 'flags')
  ) {
    try {
      return { regex: new RegExp(value.regex, value.flags === undefined ? 'u' : `${value.flags}u`) };
    } catch (error) {
      throw new Problem(`expect.reply.regex: ${(error as Error).message}`);
    }
  }
  throw new Problem(shape);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new Problem(`${field} must be one of ${allowed.join(', ')}; got ${show(value)}`);
}

function readExpectation(value: unknown): Expectation {
  if (!isRecord(value) || Object.keys(value).length === 0) {
    throw new Problem(`expect must be a mapping of ${EXPECTATIONS.join(', ')}`);
  }
  const expectation: Expectation = {};
  for (const [key, field] of Object.entries(value)) {
    switch (oneOf(key, EXPECTATIONS, 'an expect key')) {
      case 'reply':
        expectation.reply = readReplyExpectation(field);
        break;
      case 'noReply':
        if (field !== true) throw new Problem('expect.noReply must be true');
        expectation.noReply = true;
        break;
      case 'state':
        expectation.state = oneOf(field, STATES, 'expect.state');
        break;
      case 'fallback':
        expectation.fallback = oneOf(field, FALLBACK_REASONS, 'expect.fallback') as FallbackReason;
        break;
      case 'order':
        if (!Array.isArray(field) || field.length < 2) {
          throw new Problem('expect.order must list at least two messages, in the order expected');
        }
        expectation.order = field.map((item, i) => text(item, `expect.order[${i}]`));
        break;
    }
  }
  if (expectation.reply && expectation.noReply)
    throw new Problem('expect cannot ask for a reply and noReply');
  return expectation;
}

function readAgentAction(value: unknown): AgentAction {
  if (typeof value === 'string') return { type: oneOf(value, AGENT_ACTIONS, 'agent') };
  const [key, field] = singleKey(value, 'agent (unless takeover, release or close)');
  if (key !== 'reply')
    throw new Problem(`agent must be takeover, release, close or { reply: "..." }; got ${key}`);
  return { type: 'reply', text: text(field, 'agent.reply') };
}

function readStep(value: unknown): StepAction {
  const [kind, field] = singleKey(value, 'a step');
  switch (oneOf(kind, STEP_KINDS, 'a step')) {
    case 'customer':
      return { kind: 'customer', message: readCustomerMessage(field, 'customer') };
    case 'expect':
      return { kind: 'expect', expect: readExpectation(field) };
    case 'agent':
      return { kind: 'agent', action: readAgentAction(field) };
    case 'advance':
      return { kind: 'advance', ms: readDuration(field, 'advance') };
    case 'duplicate':
      if (field !== 'last') throw new Problem('duplicate must be "last" (the last customer delivery, again)');
      return { kind: 'duplicate' };
    case 'reorder':
      if (!Array.isArray(field) || field.length !== 2) {
        throw new Problem('reorder must list two customer messages, in the order the customer sent them');
      }
      return {
        kind: 'reorder',
        messages: [readCustomerMessage(field[0], 'reorder[0]'), readCustomerMessage(field[1], 'reorder[1]')],
      };
    case 'stale': {
      if (!isRecord(field) || !('customer' in field) || !('age' in field)) {
        throw new Problem('stale must be { customer: <message>, age: <how long ago it was sent, e.g. 3h> }');
      }
      const extra = Object.keys(field).filter((key) => key !== 'customer' && key !== 'age');
      if (extra.length > 0) throw new Problem(`stale has unknown ${extra.join(', ')}: only customer and age`);
      return {
        kind: 'stale',
        message: readCustomerMessage(field.customer, 'stale.customer'),
        ageMs: readDuration(field.age, 'stale.age'),
      };
    }
  }
}

/** The line a node of the document starts on, for messages. */
function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lines.linePos(node.range[0]).line : 0;
}

function oneLine(step: unknown): string {
  const flow = stringify(step, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return flow.startsWith('{') && flow.endsWith('}') ? flow.slice(1, -1).trim() : flow;
}

/** Reads a scenario from YAML text; throws ScenarioFileError listing every problem found. */
export function parseScenario(file: string, source: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioFileError(
      file,
      doc.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message}`;
      }),
    );
  }
  const tree: unknown = doc.toJS();
  if (!isRecord(tree) || !isMap(doc.contents)) {
    throw new ScenarioFileError(file, ['a scenario is a mapping with a name and steps']);
  }
  const problems: string[] = [];
  const field = <T>(key: string, read: (value: unknown) => T): T | undefined => {
    if (tree[key] === undefined) return undefined;
    try {
      return read(tree[key]);
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      problems.push(`line ${lineOf(doc, lines, [key])}: ${error.message}`);
      return undefined;
    }
  };
  for (const key of Object.keys(tree)) {
    if (!TOP_LEVEL.includes(key))
      problems.push(`unknown field "${key}"; a scenario has ${TOP_LEVEL.join(', ')}`);
  }
  const name = field('name', (value) => text(value, 'name'));
  if (tree.name === undefined) problems.push('name is missing: say what the conversation shows');
  field('description', (value) => text(value, 'description'));
  const workspace = field('workspace', (value) => text(value, 'workspace'));
  const phoneNumber = field('phoneNumber', (value) => {
    const id = typeof value === 'number' ? String(value) : value;
    if (typeof id !== 'string' || !DIGITS.test(id))
      throw new Problem("phoneNumber must be Meta's phone_number_id");
    return id;
  });
  const customer =
    field('customer', (value) => {
      if (!isRecord(value)) throw new Problem('customer must be { waId?, name? }');
      const waId = typeof value.waId === 'number' ? String(value.waId) : value.waId;
      if (waId !== undefined && (typeof waId !== 'string' || !DIGITS.test(waId))) {
        throw new Problem('customer.waId must be digits, like a WhatsApp id');
      }
      return {
        ...(waId === undefined ? {} : { waId }),
        ...(value.name === undefined ? {} : { name: text(value.name, 'customer.name') }),
      };
    }) ?? {};
  const humanAgent = field('humanAgent', (value) => text(value, 'humanAgent'));

  const steps: ScenarioStep[] = [];
  if (!Array.isArray(tree.steps) || !isSeq(doc.get('steps', true)) || tree.steps.length === 0) {
    problems.push('steps must be a list of at least one step');
  } else {
    tree.steps.forEach((value, i) => {
      const line = lineOf(doc, lines, ['steps', i]);
      try {
        steps.push({ ...readStep(value), number: i + 1, line, source: oneLine(value) });
      } catch (error) {
        if (!(error instanceof Problem)) throw error;
        problems.push(`step ${i + 1} (line ${line}): ${error.message}`);
      }
    });
  }
  if (problems.length > 0 || name === undefined) throw new ScenarioFileError(file, problems);
  return {
    file,
    name,
    ...(workspace === undefined ? {} : { workspace }),
    ...(phoneNumber === undefined ? {} : { phoneNumber }),
    customer,
    ...(humanAgent === undefined ? {} : { humanAgent }),
    steps,
  };
}

export async function readScenario(file: string): Promise<Scenario> {
  return parseScenario(file, await readFile(file, 'utf8'));
}
