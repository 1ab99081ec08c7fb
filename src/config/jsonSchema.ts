// The JSON Schema of the config file, generated from the zod schema (src/config/schema.ts), for editors that
// autocomplete and validate `rollout.yaml` (yaml-language-server: `# yaml-language-server: $schema=…`).
// `rollout schema` prints it; schema/rollout.schema.json is the checked-in copy a test keeps equal to it.
import { z } from 'zod';
import { configSchema } from './schema';

export function configJsonSchema(): Record<string, unknown> {
  // The input side: what a person writes (defaults make fields optional). Checks zod runs in code (hosts,
  // percentages, references between fields) cannot be expressed and are left to `rollout validate`.
  const generated = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'rollout config',
    description: 'The rollout config file (YAML or JSON): targets, groups and deployables. See the README.',
    ...rest,
  };
}

/** As written to schema/rollout.schema.json: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
