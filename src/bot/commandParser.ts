// The text after `/rollout`: help, list, status [target], cancel <id>, history <deployable>, rollback <deployable>,
// lock <deployable> <reason...> [--take-over], unlock <deployable>, pause <id> [reason], resume <id>,
// window <id> <n>, promote <deployable> <release>, or <deployable> <release> [environment] [--plan]
// [--override-freeze <reason>]. Parsed with zod; a problem comes back as the sentence to show.
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
  z.object({ kind: z.literal('promote'), deployable: word, release: word }),
  z.object({ kind: z.literal('lock'), deployable: word, reason: z.string().min(1).max(500), takeOver: z.boolean() }),
  z.object({ kind: z.literal('unlock'), deployable: word }),
  z.object({ kind: z.literal('pause'), rolloutId: word, reason: z.string().max(500).optional() }),
  z.object({ kind: z.literal('resume'), rolloutId: word }),
  z.object({
    kind: z.literal('window'),
    rolloutId: word,
    window: z
      .string({ error: 'missing window size: `/rollout window <id> <n>`' })
      .regex(/^[1-9]\d{0,4}$/, 'the window is a whole number ≥ 1: `/rollout window <id> <n>`')
      .transform(Number),
  }),
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
    /** The deployable's environment (`/rollout web-farm v2 production`). */
    environment: word.optional(),
    /** `--override-freeze <reason>`: start during a deploy freeze (its freezeOverriders only). */
    overrideFreeze: z.string().min(1, 'an override needs a reason: `--override-freeze <reason>`').max(500).optional(),
    /** `--plan`: show what would happen (and a Start button), start nothing. */
    plan: z.boolean().optional(),
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
    case 'promote':
      if (rest[0] === undefined || rest[1] === undefined)
        return { ok: false, error: 'missing deployable or release: `/rollout promote <deployable> <release>`' };
      if (tooMany(2)) return { ok: false, error: tooMany(2)! };
      raw = { kind: 'promote', deployable: rest[0], release: rest[1] };
      break;
    case 'pause':
      if (rest[0] === undefined) return { ok: false, error: 'missing rollout id: `/rollout pause <id> [reason]`' };
      raw = { kind: 'pause', rolloutId: rest[0], ...(rest.length > 1 ? { reason: rest.slice(1).join(' ') } : {}) };
      break;
    case 'resume':
      if (rest[0] === undefined) return { ok: false, error: 'missing rollout id: `/rollout resume <id>`' };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      raw = { kind: 'resume', rolloutId: rest[0] };
      break;
    case 'window':
      if (rest[0] === undefined) return { ok: false, error: 'missing rollout id: `/rollout window <id> <n>`' };
      if (tooMany(2)) return { ok: false, error: tooMany(2)! };
      raw = { kind: 'window', rolloutId: rest[0], ...(rest[1] !== undefined ? { window: rest[1] } : {}) };
      break;
    default: {
      const plan = rest.includes('--plan');
      if (plan) rest.splice(0, rest.length, ...rest.filter((w) => w !== '--plan'));
      const flag = rest.indexOf('--override-freeze');
      const releaseWords = flag >= 0 ? rest.slice(0, flag) : rest;
      // `<release> [environment]`. A release never contains spaces: anything after them is an error.
      // Only plain spaces separate the environment: a newline or tab in the text keeps it all one (invalid) release.
      const [releaseWord, environment, ...extra] = releaseWords;
      const oneLine = !/[^\S ]/.test(text.trim().split('--override-freeze')[0] ?? '');
      const release = extra.length > 0 || !oneLine ? releaseWords.join(' ') : releaseWord;
      raw = {
        kind: 'start',
        deployable: first,
        ...(release !== undefined ? { release } : {}),
        ...(environment !== undefined && extra.length === 0 && oneLine ? { environment } : {}),
        ...(flag >= 0 ? { overrideFreeze: rest.slice(flag + 1).join(' ') } : {}),
        ...(plan ? { plan: true } : {}),
      };
    }
  }
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
  return { ok: true, command: parsed.data };
}
