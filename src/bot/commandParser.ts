// The text after `/rollout`: help, list, status [target], cancel <id>, history <deployable>, rollback <deployable>,
// lock <deployable> <reason...> [--take-over], unlock <deployable>, or <deployable> <release>. Parsed with zod; a
// problem comes back as the sentence to show.
import { z } from 'zod';
import { checkRelease } from '../../domain/variables';

const word = z.string().min(1).max(200);
const commandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('help') }),
  z.object({ kind: z.literal('list') }),
  z.object({ kind: z.literal('status'), target: word.optional() }),
  z.object({ kind: z.literal('cancel'), rolloutId: word }),
  z.object({ kind: z.literal('history'), deployable: word }),
  z.object({ kind: z.literal('rollback'), deployable: word }),
  z.object({ kind: z.literal('lock'), deployable: word, reason: z.string().min(1).max(500), takeOver: z.boolean() }),
  z.object({ kind: z.literal('unlock'), deployable: word }),
  z.object({
    kind: z.literal('start'),
    deployable: word,
    release: z
      .string({ error: 'missing release: say which release to roll out' })
      .min(1, 'missing release: say which release to roll out')
      .superRefine((release, ctx) => {
        const problem = checkRelease(release);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }),
]);
export type RolloutCommand = z.output<typeof commandSchema>;

/** Parses the text after `/rollout`; returns the command or what is wrong with it. */
export function parseCommand(text: string): { ok: true; command: RolloutCommand } | { ok: false; error: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  let raw: Record<string, unknown>;
  const tooMany = (n: number) =>
    rest.length > n ? `unexpected \`${rest.slice(n).join(' ').slice(0, 100)}\`` : undefined;
  switch (first?.toLowerCase()) {
    case undefined:
    case 'help':
      raw = { kind: 'help' };
      break;
    case 'list':
      raw = { kind: 'list' };
      break;
    case 'status':
      raw = { kind: 'status', ...(rest[0] !== undefined ? { target: rest[0] } : {}) };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      break;
    case 'cancel':
      if (rest[0] === undefined) return { ok: false, error: 'missing rollout id: `/rollout cancel <id>`' };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      raw = { kind: 'cancel', rolloutId: rest[0] };
      break;
    case 'history':
    case 'rollback':
    case 'unlock': {
      const kind = first.toLowerCase();
      if (rest[0] === undefined) return { ok: false, error: `missing deployable: \`/rollout ${kind} <deployable>\`` };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      raw = { kind, deployable: rest[0] };
      break;
    }
    case 'lock': {
      const takeOver = rest.includes('--take-over');
      const [deployable, ...reason] = rest.filter((w) => w !== '--take-over');
      if (deployable === undefined)
        return { ok: false, error: 'missing deployable: `/rollout lock <deployable> <reason> [--take-over]`' };
      if (reason.length === 0)
        return { ok: false, error: 'missing reason: say why you lock it: `/rollout lock <deployable> <reason>`' };
      raw = { kind: 'lock', deployable, reason: reason.join(' '), takeOver };
      break;
    }
    default: {
      // A release never contains spaces: anything after it is an error, not part of it.
      const release = rest.length > 0 ? rest.join(' ') : undefined;
      raw = { kind: 'start', deployable: first, ...(release !== undefined ? { release } : {}) };
    }
  }
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
  return { ok: true, command: parsed.data };
}
