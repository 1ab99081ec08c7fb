import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SET_OUTPUT_SHELL_FUNCTION, parseOutputLine } from '../../activities/outputVariables';
import { evaluateCondition, ExpressionError, parseExpression } from '../../domain/expressions';
import { windowSize } from '../../domain/window';
import { shellQuote, substitute, SubstitutionError } from '../../domain/variables';

const scope = {
  release: 'v2',
  deployable: 'web-farm',
  requestedBy: 'U1',
  status: 'success' as const,
  machine: { name: 'web3', tags: ['web'] },
  variables: { Region: 'eu', Canary: 'false' },
  outputs: { 'sanity-test': { ShouldAddBackToWebFarm: 'True' }, sanity: { Ok: 'False' } },
};

describe('run-condition expressions', () => {
  it("reads release, machine, variables and this machine's outputs", () => {
    expect(evaluateCondition('Release == "v2" && Machine.Name == "web3"', scope)).toBe(true);
    expect(evaluateCondition('Output["sanity-test"].ShouldAddBackToWebFarm == "True"', scope)).toBe(true);
    expect(evaluateCondition('Output.sanity.Ok', scope)).toBe(false);
    expect(evaluateCondition('!Var.Canary && Var.Region != "us"', scope)).toBe(true);
    expect(evaluateCondition('Output.missing.X == ""', scope)).toBe(true);
    expect(evaluateCondition('Status == "failure" || Deployable == "web-farm"', scope)).toBe(true);
  });

  it('refuses what is not a condition, without evaluating anything', () => {
    for (const bad of [
      'process.exit(1)',
      'Release = 1',
      'a + b',
      '(() => 1)()',
      'Var[Release]',
      'Release ? 1 : 2',
      'this',
    ]) {
      expect(() => parseExpression(bad), bad).toThrow(ExpressionError);
    }
  });
});

describe('variables', () => {
  it('substitutes values as single shell words that cannot break out', () => {
    const hostile = `x'; touch /tmp/pwned; echo '`;
    const script = substitute('printf %s #{Evil} > out; echo ##{Literal} #{Machine.Name}', {
      release: 'v2',
      deployable: 'd',
      requestedBy: 'U',
      stepName: 's',
      machineName: 'web1',
      variables: { Evil: hostile },
      outputs: {},
    });
    expect(script).toContain(`#{Literal} 'web1'`);
    const printed = execFileSync('bash', ['-c', script.replace('> out', '')]).toString();
    expect(printed.startsWith(hostile)).toBe(true);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(() =>
      substitute('#{Nope}', {
        release: '',
        deployable: '',
        requestedBy: '',
        stepName: '',
        machineName: '',
        variables: {},
        outputs: {},
      }),
    ).toThrow(SubstitutionError);
  });

  it('set_output prints a line that parses back to the same value', () => {
    const value = `it's a \\ back'slash`;
    const out = execFileSync('bash', [
      '-c',
      `${SET_OUTPUT_SHELL_FUNCTION}\nset_output Foo "$1"; set_output Bar True`,
      'x',
      value,
    ])
      .toString()
      .split('\n');
    expect(parseOutputLine(out[0] ?? '')).toEqual({ name: 'Foo', value });
    expect(parseOutputLine(out[1] ?? '')).toEqual({ name: 'Bar', value: 'True' });
    expect(parseOutputLine('echo nothing')).toBeUndefined();
  });

  it('window sizes: counts, percentages rounded up, at least 1', () => {
    expect(windowSize({ count: 2 }, 6)).toBe(2);
    expect(windowSize({ count: 10 }, 6)).toBe(6);
    expect(windowSize({ percent: 25 }, 6)).toBe(2);
    expect(windowSize({ percent: 1 }, 6)).toBe(1);
    expect(windowSize(undefined, 6)).toBe(6);
  });
});
