// The log adapters over a real pino logger writing to memory: Temporal's Runtime logger (levels, rollout id from
// the workflow id, fields) and Slack's (a leading object as fields), plus the Temporal UI link rule.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { workflowUiUrl } from '../../domain/links';
import { slackLogger } from '../../src/observability/boltLogger';
import { rolloutFieldsOf } from '../../src/observability/activityLog';
import { createLogger } from '../../src/observability/logger';
import { PinoTemporalLogger } from '../../src/observability/temporalLogger';

function memory(level: 'info' | 'debug' = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level, service: 'worker', format: 'json', destination }) };
}

describe('the Temporal Runtime logger over pino', () => {
  it("filters the SDK's own lines by ROLLOUT_LOG_LEVEL, workflow and activity lines by LOG_LEVEL alone", () => {
    const { lines, log } = memory('info');
    const sdk = new PinoTemporalLogger(log, 'WARN');
    sdk.info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    sdk.warn('Activity failed', { sdkComponent: 'worker' });
    sdk.info('rollout started', {
      sdkComponent: 'workflow',
      workflowId: 'rollout-web-v2-1',
      workflowType: 'rolloutWorkflow',
    });
    sdk.debug('too fine', { sdkComponent: 'activity' });
    expect(lines.map((l) => l.msg)).toEqual(['Activity failed', 'rollout started']);
    // Control: at ROLLOUT_LOG_LEVEL=INFO the SDK's line does show.
    new PinoTemporalLogger(log, 'INFO').info('Worker state changed', { sdkComponent: 'worker' });
    expect(lines.at(-1)?.msg).toBe('Worker state changed');
  });

  it('puts the rollout id on lines of rollout and target-chain workflows and their activities, not others', () => {
    const { lines, log } = memory();
    const sdk = new PinoTemporalLogger(log, 'INFO');
    sdk.info('a', { sdkComponent: 'workflow', workflowId: 'rollout-web-v2-1', workflowType: 'rolloutWorkflow' });
    sdk.info('b', {
      sdkComponent: 'activity',
      workflowId: 'rollout-web-v2-1/0-deploy/web3/1',
      workflowType: 'targetChainWorkflow',
      activityType: 'runScript',
      taskToken: 'c2VjcmV0',
      [Symbol('time')]: 1n,
      big: 12n,
    });
    sdk.info('c', { sdkComponent: 'workflow', workflowId: 'deployable-web', workflowType: 'deployableWorkflow' });
    expect(lines[0]).toMatchObject({ msg: 'a', rolloutId: 'rollout-web-v2-1', level: 'info', service: 'worker' });
    expect(lines[1]).toMatchObject({ msg: 'b', rolloutId: 'rollout-web-v2-1', activityType: 'runScript', big: '12' });
    expect(lines[1]).not.toHaveProperty('taskToken');
    expect(lines[2]).not.toHaveProperty('rolloutId');
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('activity inputs name their rollout, step, target and child step', () => {
    expect(
      rolloutFieldsOf({ rolloutId: 'r1', stepName: 'deploy', target: { name: 'web3' }, child: { name: 'install' } }),
    ).toEqual({ rolloutId: 'r1', step: 'deploy', target: 'web3', childStep: 'install' });
    expect(rolloutFieldsOf({ root: {}, event: { type: 'ended', summary: { rolloutId: 'r2' } } })).toEqual({
      rolloutId: 'r2',
    });
    expect(rolloutFieldsOf(undefined)).toEqual({});
  });
});

describe('the process logger', () => {
  it('prints pino-pretty lines for people when its stdout is a terminal, JSON otherwise', () => {
    const written: string[] = [];
    const tty = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          written.push(chunk.toString());
          done();
        },
      }),
      { isTTY: true },
    );
    createLogger({ level: 'info', service: 'worker', destination: tty }).info({ rolloutId: 'r1' }, 'rollout started');
    const text = written.join('');
    expect(text).not.toMatch(/^\{/);
    expect(text).toMatch(/INFO.*rollout started/);
    expect(text).toMatch(/rolloutId: "r1"/);
    const plain: string[] = [];
    const pipe = new Writable({
      write(chunk: Buffer, _enc, done) {
        plain.push(chunk.toString());
        done();
      },
    });
    createLogger({ level: 'info', service: 'worker', destination: pipe }).info('x'); // not a terminal: JSON
    expect(JSON.parse(plain.join(''))).toMatchObject({ msg: 'x', level: 'info', service: 'worker' });
  });
});

describe("Slack's logger over pino", () => {
  it('a leading object is fields; strings and errors are joined into the message', () => {
    const { lines, log } = memory();
    const slack = slackLogger(log);
    slack.info({ rolloutId: 'r1', user: 'U1' }, 'rollout bot: decision clicked');
    slack.warn('rollout bot:', 'two', 'parts');
    slack.error(new Error('boom'));
    slack.debug('not at info');
    slack.setLevel('debug' as never); // Bolt's own level is ignored: LOG_LEVEL rules
    slack.debug('still not');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 'info',
      rolloutId: 'r1',
      user: 'U1',
      msg: 'rollout bot: decision clicked',
    });
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'rollout bot: two parts' });
    expect(lines[2]).toMatchObject({ level: 'error', msg: 'boom' });
    expect((lines[2]?.err as { message: string }).message).toBe('boom');
  });
});

describe('Temporal UI links', () => {
  it("name the rollout's namespace, every part encoded", () => {
    expect(workflowUiUrl('http://ui:8080/', 'prod', 'rollout-web-v2-1')).toBe(
      'http://ui:8080/namespaces/prod/workflows/rollout-web-v2-1',
    );
    expect(workflowUiUrl('http://ui', 'team.acct', 'a/b')).toBe('http://ui/namespaces/team.acct/workflows/a%2Fb');
  });
});

describe('the observability variables', () => {
  it('LOG_LEVEL (any case, default info), ROLLOUT_METRICS_PORT / ROLLOUT_HEALTH_PORT (a port or off)', async () => {
    const { EnvError, loadEnv } = await import('../../src/env');
    const d = loadEnv({});
    expect(d.LOG_LEVEL).toBe('info');
    expect(d.ROLLOUT_LOG_LEVEL).toBe('WARN');
    expect(d.ROLLOUT_METRICS_PORT).toBeUndefined(); // the worker's default, 9464
    const e = loadEnv({ LOG_LEVEL: 'DEBUG', ROLLOUT_METRICS_PORT: 'off', ROLLOUT_HEALTH_PORT: '9091' });
    expect([e.LOG_LEVEL, e.ROLLOUT_METRICS_PORT, e.ROLLOUT_HEALTH_PORT]).toEqual(['debug', 'off', 9091]);
    expect(() => loadEnv({ LOG_LEVEL: 'loud', ROLLOUT_METRICS_PORT: '70000' })).toThrow(EnvError);
    expect(() => loadEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadEnv({ ROLLOUT_HEALTH_PORT: 'ninety' })).toThrow(
      /ROLLOUT_HEALTH_PORT: must be a port number or off/,
    );
  });
});
