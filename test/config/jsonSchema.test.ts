// The checked-in JSON Schema (schema/rollout.schema.json) is the one generated from the zod schema, and it accepts
// every example config; it refuses what zod refuses on shape (a control shows the validator can fail).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/jsonSchema';
import { cliEnv, runCli } from '../cli/helpers';

const root = path.resolve(import.meta.dirname, '../..');
const checkedIn = readFileSync(path.join(root, 'schema/rollout.schema.json'), 'utf8');
const examples = readdirSync(path.join(root, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.includes('node_modules'))
  .map((f) => path.join(root, 'examples', f));

// Formats off: zod checks the freeze times itself (and ajv-formats is not a dependency).
const validator = () =>
  new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(configJsonSchema());

describe('JSON Schema of the config', () => {
  it('the checked-in copy equals the generated schema (regenerate: rollout schema > schema/rollout.schema.json)', () => {
    expect(checkedIn).toBe(configJsonSchemaText());
  });

  it('`rollout schema` prints it', async () => {
    const r = await runCli(['schema'], cliEnv({}));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(checkedIn);
  });

  it('accepts every example config', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const validate = validator();
    for (const file of examples) {
      const ok = validate(YAML.parse(readFileSync(file, 'utf8')));
      expect({ file, errors: ok ? [] : validate.errors }).toEqual({ file, errors: [] });
    }
  });

  it('refuses a bad value and an unknown field (control: the validator can fail)', () => {
    const validate = validator();
    const good = YAML.parse(readFileSync(path.join(root, 'examples/quickstart/rollout.yaml'), 'utf8')) as {
      deployables: Record<string, { process: Array<Record<string, unknown>> }>;
    };
    const bad = structuredClone(good);
    const d = Object.values(bad.deployables)[0]!;
    d.process[0] = { ...d.process[0], runCondition: 'sometimes' };
    expect(validate(bad)).toBe(false);
    expect(validate({ ...good, colour: 'blue' })).toBe(false);
  });
});
