// `rollout schema`: prints the JSON Schema of the config file (generated from the zod schema).
import { configJsonSchemaText } from '../../config/jsonSchema';
import { EXIT, type CliContext } from '../context';

export function schemaCommand(ctx: CliContext): number {
  ctx.stdout.write(configJsonSchemaText());
  return EXIT.OK;
}
