import type { TranscriptLine } from './scenario-conversation.ts';
import type { ScenarioResult, StepResult } from './scenario-runner.ts';

export interface ReportStyle {
  color: boolean;
}

const COLORS = { green: 32, red: 31, dim: 2 } as const;

function paint(style: ReportStyle, color: keyof typeof COLORS, text: string): string {
  return style.color ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
}

/** Text on several lines, each after the first indented to `indent`. */
function block(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}

function formatStep(result: StepResult, style: ReportStyle): string[] {
  const { step } = result;
  const mark = { passed: paint(style, 'green', '✓'), failed: paint(style, 'red', '✗'), skipped: '-' }[
    result.status
  ];
  const number = String(step.number).padStart(2);
  const line = `    ${mark} ${number}  ${step.source}`;
  if (result.status === 'skipped') return [paint(style, 'dim', `${line}  (not run)`)];
  if (!result.failure) return [line];
  const indent = ' '.repeat(20);
  return [
    `${line}  ${paint(style, 'dim', `(line ${step.line})`)}`,
    `         expected: ${block(result.failure.expected, indent)}`,
    `         got:      ${block(result.failure.got, indent)}`,
  ];
}

function formatTranscriptLine(line: TranscriptLine, style: ReportStyle): string {
  const who = line.who === 'note' ? '·' : line.who;
  const detail = line.detail ? `  ${paint(style, 'dim', `[${line.detail}]`)}` : '';
  const text = line.who === 'note' ? paint(style, 'dim', line.text) : line.text;
  return `      ${who.padEnd(9)} ${block(text, ' '.repeat(16))}${detail}`;
}

/** One scenario: its name, each step ✓/✗, and for a failure what was expected, what came, and the transcript. */
export function formatScenarioResult(result: ScenarioResult, style: ReportStyle): string {
  const mark = result.passed ? paint(style, 'green', '✓') : paint(style, 'red', '✗');
  const where = result.name === result.file ? '' : `  ${paint(style, 'dim', `(${result.file})`)}`;
  const lines = [`${mark} ${result.name}${where}`];
  if (result.problem) {
    lines.push(`    cannot run this scenario:`, `      ${block(result.problem, '      ')}`);
    return lines.join('\n');
  }
  for (const step of result.steps) lines.push(...formatStep(step, style));
  if (!result.passed) {
    lines.push('    transcript so far:');
    if (result.transcript.length === 0) lines.push('      (nothing yet)');
    for (const line of result.transcript) lines.push(formatTranscriptLine(line, style));
  }
  return lines.join('\n');
}

/** The last line: how many passed, and which step of which file failed. */
export function formatSummary(results: readonly ScenarioResult[], style: ReportStyle): string {
  const failed = results.filter((result) => !result.passed);
  const counts = `${results.length} ${results.length === 1 ? 'scenario' : 'scenarios'}: ${results.length - failed.length} passed, ${failed.length} failed`;
  if (failed.length === 0) return paint(style, 'green', counts);
  const where = failed.map((result) => {
    const step = result.steps.find((candidate) => candidate.status === 'failed')?.step;
    return step ? `${result.file}:${step.line} (step ${step.number})` : `${result.file} (cannot run)`;
  });
  return paint(style, 'red', `${counts}\n  ${where.join('\n  ')}`);
}
