// Config errors name the bad value's path AND where it is in the file (`file:line:col`), in YAML and in JSON;
// the duplicate-key refusal still works in both.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../../src/config/load';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-positions-'));

function problemsOf(name: string, text: string): string[] {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  try {
    loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const yaml = [
  'targets:',
  '  web1: { transport: local, tags: [web] }',
  'deployables:',
  '  web:',
  '    targets: [tag:web, nope]',
  '    process:',
  '      - type: rolling',
  '        name: deploy',
  '        window: 0',
  '        childSteps:',
  '          - name: install',
  '            script: echo hi',
].join('\n');

describe('config errors carry file:line:col', () => {
  it('YAML: a bad value (schema) names its path, line and column', () => {
    const file = path.join(dir, 'bad.yaml');
    expect(problemsOf('bad.yaml', yaml)).toEqual([`deployables.web.process[0].window: must be ≥ 1 (at ${file}:9:17)`]);
  });

  it('YAML: a problem found after the schema (an unknown target) has its position too', () => {
    const file = path.join(dir, 'ref.yaml');
    const problems = problemsOf('ref.yaml', yaml.replace('window: 0', 'window: 1'));
    expect(problems).toEqual([`deployables.web.targets[1]: unknown target "nope" (known: web1) (at ${file}:5:24)`]);
  });

  it('JSON: a bad value names its path, line and column', () => {
    const file = path.join(dir, 'bad.json');
    const text = JSON.stringify(
      {
        targets: { web1: { transport: 'local', tags: ['web'] } },
        deployables: {
          web: {
            targets: ['tag:web'],
            process: [{ name: 'hello', script: 'echo hi', runCondition: 'sometimes' }],
          },
        },
      },
      null,
      2,
    );
    const line = text.split('\n').findIndex((l) => l.includes('"runCondition"')) + 1;
    const col = (text.split('\n')[line - 1] ?? '').indexOf('"sometimes"') + 1;
    expect(line).toBeGreaterThan(1);
    const problems = problemsOf('bad.json', text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^deployables\.web\.process\[0\]\.runCondition: /);
    expect(problems[0]).toContain(`(at ${file}:${line}:${col})`);
  });

  it('an unknown field points at it; a missing one at its parent', () => {
    const file = path.join(dir, 'fields.yaml');
    const text = yaml.replace('window: 0', 'window: 1').replace('    targets: [tag:web, nope]\n', '    colour: blue\n');
    const problems = problemsOf('fields.yaml', text);
    expect(problems).toContain(`deployables.web.colour: unknown field (at ${file}:5:13)`);
    expect(problems).toContain(`deployables.web.targets: a deployable needs at least one target (at ${file}:5:5)`);
  });

  it('duplicate keys are still refused, in YAML and JSON', () => {
    expect(problemsOf('dup.yaml', yaml.replace('name: deploy', 'name: deploy\n        name: again'))).toEqual([
      'deployables.web.process[0].name: duplicate key (given more than once in the same place)',
    ]);
    expect(problemsOf('dup.json', '{"targets": {}, "targets": {}, "deployables": {}}')).toEqual([
      'targets: duplicate key (given more than once in the same place)',
    ]);
  });

  it('a good file loads (control)', () => {
    expect(problemsOf('good.yaml', yaml.replace('window: 0', 'window: 1').replace(', nope', ''))).toEqual([]);
  });
});
