import { describe, expect, it } from 'vitest';
import { parseCliArguments } from '../../src/cli/cli-arguments.ts';
import { CliError } from '../../src/cli/cli-error.ts';

const parse = (line: string) => parseCliArguments(line.split(' ').filter(Boolean));

function refusal(line: string): string {
  try {
    parse(line);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error(`"${line}" was accepted`);
}

describe('the command line', () => {
  it('reads a bare --inspect as the local bridge, and a URL after = or after a space as the inspector', () => {
    expect(parse('serve --inspect')).toMatchObject({ command: 'serve', inspect: '' });
    expect(parse('serve --inspect --config shop.yaml')).toMatchObject({ inspect: '', config: 'shop.yaml' });
    expect(parse('serve --inspect=ws://inspector:9000')).toMatchObject({ inspect: 'ws://inspector:9000' });
    expect(parse('serve --inspect ws://inspector:9000')).toMatchObject({
      inspect: 'ws://inspector:9000',
      operands: [],
    });
    expect(parse('serve --inspect wss://inspector.example')).toMatchObject({
      inspect: 'wss://inspector.example',
    });
    expect(parse('serve')).toMatchObject({ inspect: undefined, inspectPort: undefined });
  });

  it('refuses an inspector address that is not a WebSocket URL, naming what came', () => {
    expect(refusal('serve --inspect=http://inspector:9000')).toBe(
      '--inspect: expected a ws:// or wss:// URL (or nothing, for the local bridge), got "http://inspector:9000"',
    );
    expect(refusal('serve --inspect=ws://')).toContain('got "ws://"');
    // After a space, anything but a ws:// URL is an operand, which serve does not take: the hint says why.
    expect(refusal('serve --inspect localhost:9000')).toBe(
      'serve takes no arguments, got "localhost:9000" (an inspector URL after --inspect starts with ws:// or wss://)',
    );
  });

  it('moves the local bridge with --inspect-port, and only the local bridge', () => {
    expect(parse('serve --inspect --inspect-port 9229')).toMatchObject({ inspect: '', inspectPort: 9229 });
    expect(refusal('serve --inspect-port 9229')).toContain('use it with a bare --inspect');
    expect(refusal('serve --inspect=ws://inspector:9000 --inspect-port 9229')).toContain(
      'use it with a bare --inspect',
    );
    expect(refusal('serve --inspect --inspect-port 0')).toBe(
      '--inspect-port: expected a port number from 1 to 65535, got "0"',
    );
    expect(refusal('serve --inspect --inspect-port http')).toContain('got "http"');
  });

  it('names an unknown option, an option of another command and an unknown command', () => {
    expect(refusal('serve --bogus')).toBe(
      'unknown option --bogus (botrelic --help lists the commands and their options)',
    );
    expect(refusal('migrate --config shop.yaml')).toBe('migrate: --config is not an option of this command');
    expect(refusal('machine --inspect')).toBe('machine: --inspect is not an option of this command');
    expect(refusal('serve --config')).toContain("'--config <value>' argument missing");
    expect(refusal('frobnicate')).toBe('unknown command "frobnicate" (botrelic --help lists the commands)');
    expect(refusal('migrate now')).toBe('migrate takes no arguments, got "now"');
  });

  it('refuses `machine --json --mermaid`, which would print nothing', () => {
    expect(refusal('machine --json --mermaid')).toBe(
      'machine: --json and --mermaid each print one form; give one, or neither for both',
    );
    expect(parse('machine --json')).toMatchObject({ json: true, mermaid: false });
    expect(parse('machine')).toMatchObject({ json: false, mermaid: false });
  });

  it('passes scenario paths to `test` and help through whatever else is on the line', () => {
    expect(parse('test scenarios/a.yaml scenarios/b.yaml --config shop.yaml')).toMatchObject({
      command: 'test',
      operands: ['scenarios/a.yaml', 'scenarios/b.yaml'],
      config: 'shop.yaml',
    });
    expect(parse('serve --help')).toMatchObject({ help: true });
    expect(parse('')).toMatchObject({ command: undefined, help: false });
  });
});
