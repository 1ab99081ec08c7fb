// Loads the config file, validates it with zod and then checks what a schema cannot (references between
// fields, expressions, variables). Every problem names the path of the bad field; nothing is half-loaded.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ownValue } from '../../domain/access';
import { ExpressionError, outputStepsReferenced } from '../../domain/expressions';
import type { TargetPlan } from '../../domain/plan';
import { checkMaxParallelism, MAX_PARALLELISM } from '../../domain/maxParallelism';
import type { SecretRef } from '../../domain/secrets';
import { checkVariableName, checkVariableValue, referencedVariables } from '../../domain/variables';
import { duplicateKeyProblems } from './duplicateKeys';
import { bareHost } from './safeValues';
import { configSchema, ENVIRONMENT_VARIABLE, type ParsedConfig } from './schema';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface Config {
  source: string;
  raw: ParsedConfig;
  /** Every target, resolved (paths absolute, defaults applied), in the order the file declares them. */
  targets: TargetPlan[];
  /** What is allowed but probably a mistake (an empty group), each naming its path. */
  warnings: string[];
}

export interface LoadOptions {
  /**
   * Also check the files this machine will read when it connects (known_hosts with strict checking on): for
   * `rollout validate` and `rollout worker`, not for the bot, which never connects to a target.
   */
  checkFiles?: boolean;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['deployables','web-farm','process',2,'window']` → `deployables.web-farm.process[2].window` */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of p) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const s = String(part);
      out += SIMPLE_KEY.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(root)';
}

/** Where a config path is in the file, as `file:line:col`, or undefined (no file, or not found). */
export type Locate = (p: ReadonlyArray<PropertyKey>) => string | undefined;

/** `path: message`, and where the bad value is in the file when that is known. */
function problemAt(p: ReadonlyArray<PropertyKey>, msg: string, locate: Locate | undefined): string {
  const where = locate?.(p);
  return `${formatPath(p)}: ${msg}${where ? ` (at ${where})` : ''}`;
}

function zodProblems(error: z.ZodError, locate?: Locate): string[] {
  const problems: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(problemAt([...issue.path, key], 'unknown field', locate));
      continue;
    }
    if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors)) {
      // Report the closest branch's own message rather than "invalid input".
      const first = (issue.errors as z.core.$ZodIssue[][]).find((e) => e.length > 0)?.[0];
      if (first) {
        problems.push(problemAt([...issue.path, ...first.path], first.message, locate));
        continue;
      }
    }
    let msg = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(msg)) msg = 'is required';
    problems.push(problemAt(issue.path, msg, locate));
  }
  return problems;
}

/**
 * A locator over a parsed document: the node at the path (or, for a field that is missing, its closest
 * ancestor that is there), as `source:line:col` (1-based, from the parser's ranges).
 */
export function locator(doc: YAML.Document, lines: YAML.LineCounter, source: string): Locate {
  return (p) => {
    let node: unknown = doc.contents;
    let found: unknown = node;
    for (const part of p) {
      if (YAML.isMap(node)) {
        const pair = node.items.findLast(
          (it) => (YAML.isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(part),
        );
        if (!pair) break;
        found = pair.value ?? pair.key;
        node = pair.value;
      } else if (YAML.isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
        node = node.items[part];
        found = node;
      } else break;
    }
    const start = (found as { range?: YAML.Range | null } | null | undefined)?.range?.[0];
    if (start === undefined) return undefined;
    const { line, col } = lines.linePos(start);
    return `${source}:${line}:${col}`;
  };
}

interface ParsedText {
  value: unknown;
  locate: Locate;
}

export function parseConfigText(text: string, source: string): unknown {
  return parseConfigDocument(text, source).value;
}

/** Parses YAML or JSON (JSON is YAML 1.2: the same parser gives positions and finds duplicate keys in both). */
function parseConfigDocument(text: string, source: string): ParsedText {
  const lines = new YAML.LineCounter();
  if (source.endsWith('.json')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(source, [`cannot parse: ${(e as Error).message}`]);
    }
    // JSON.parse lets the last of two equal keys win silently; JSON is YAML, so YAML's parser finds them.
    const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lines });
    const dup = duplicateKeyProblems(doc);
    if (dup.length > 0) throw new ConfigError(source, dup);
    return { value, locate: locator(doc, lines, source) };
  }
  // Duplicate keys are reported by path below (YAML's own check names only a line).
  const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length > 0)
    throw new ConfigError(
      source,
      doc.errors.map((e) => `cannot parse: ${e.message}`),
    );
  // `#{Name}` after a space in an unquoted YAML value starts a comment, silently cutting the script short.
  const cut: string[] = [];
  YAML.visit(doc, {
    Pair(_key, pair, path) {
      const v = pair.value;
      if (YAML.isScalar(v) && v.type === 'PLAIN' && typeof v.comment === 'string' && v.comment.startsWith('{')) {
        const keys = [...path, pair]
          .filter((n): n is YAML.Pair => YAML.isPair(n))
          .map((p) => (YAML.isScalar(p.key) ? String(p.key.value) : '?'));
        cut.push(
          `${keys.join('.')}: "#{" starts a YAML comment here, so the value ends before it: quote the value or use a block scalar (|)`,
        );
      }
    },
  });
  if (cut.length > 0) throw new ConfigError(source, cut);
  const dup = duplicateKeyProblems(doc);
  if (dup.length > 0) throw new ConfigError(source, dup);
  return { value: doc.toJS(), locate: locator(doc, lines, source) };
}

export function loadConfigFile(file: string, opts: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${(e as Error).message}`]);
  }
  const { value, locate } = parseConfigDocument(text, file);
  const config = validateConfig(value, file, path.dirname(path.resolve(file)), locate);
  if (opts.checkFiles) {
    const missing = missingFileProblems(config);
    if (missing.length > 0) throw new ConfigError(file, missing);
  }
  return config;
}

/** ssh targets with strict host-key checking whose known_hosts file is not there: every connection would fail. */
export function missingFileProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const t of config.targets) {
    if (t.transport !== 'ssh' || !t.strictHostKeyChecking || !t.knownHostsPath) continue;
    if (existsSync(t.knownHostsPath)) continue;
    const own = ownValue(config.raw.targets, t.name)?.knownHostsPath !== undefined;
    problems.push(
      `${formatPath(own ? ['targets', t.name, 'knownHostsPath'] : ['ssh', 'knownHostsPath'])}: known_hosts file ` +
        `${t.knownHostsPath} does not exist (target ${t.name} checks host keys strictly): add the host keys ` +
        '(ssh-keyscan) or set strictHostKeyChecking: false',
    );
  }
  return problems;
}

const BUILTIN_VARIABLES = new Set(['Release', 'Deployable', 'RequestedBy', 'Step.Name', 'Machine.Name']);

/** `locate`, when the input came from a file: each problem also says where in it (`file:line:col`). */
export function validateConfig(input: unknown, source: string, baseDir: string, locate?: Locate): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, zodProblems(parsed.error, locate));
  const cfg = parsed.data;
  const problems: string[] = [];
  const at = (p: PropertyKey[], msg: string) => problems.push(problemAt(p, msg, locate));
  const resolvePath = (p: string) => (p.startsWith('~/') ? path.join(homedir(), p.slice(2)) : path.resolve(baseDir, p));

  // Targets
  const targets: TargetPlan[] = [];
  for (const [tname, t] of Object.entries(cfg.targets)) {
    const p = ['targets', tname];
    const tv = splitVariables(t.variables);
    for (const [k, v] of Object.entries(t.variables)) {
      const bad =
        checkVariableName(k) ??
        (typeof v === 'string' ? checkVariableValue(k, v) : 'value' in v ? checkVariableValue(k, v.value) : undefined);
      if (bad) at([...p, 'variables', k], bad);
    }
    if (t.transport === 'ssh') {
      if (!t.host) at([...p, 'host'], 'is required for an ssh target');
      if (!(t.user ?? cfg.ssh.user)) at([...p, 'user'], 'is required for an ssh target (or set ssh.user)');
      if (!(t.privateKeyPath ?? t.privateKeyEnv ?? cfg.ssh.privateKeyPath ?? cfg.ssh.privateKeyEnv)) {
        at([...p, 'privateKeyPath'], 'an ssh target needs privateKeyPath or privateKeyEnv (here or under ssh)');
      }
    }
    const keyPath = t.privateKeyPath ?? (t.privateKeyEnv ? undefined : cfg.ssh.privateKeyPath);
    const keyEnv = t.privateKeyEnv ?? (t.privateKeyPath ? undefined : cfg.ssh.privateKeyEnv);
    const plan: TargetPlan = {
      name: tname,
      transport: t.transport,
      host: bareHost(t.host ?? 'localhost'),
      port: t.port,
      user: t.user ?? cfg.ssh.user ?? '',
      tags: t.tags,
      workdir:
        t.transport === 'local'
          ? resolvePath(t.workdir ?? path.join(cfg.defaults.workdir, 'targets', tname))
          : (t.workdir ?? path.posix.join(cfg.defaults.workdir, tname)),
      strictHostKeyChecking: t.strictHostKeyChecking ?? cfg.ssh.strictHostKeyChecking,
      variables: tv.plain,
      ...(Object.keys(tv.secrets).length > 0 ? { secrets: tv.secrets } : {}),
    };
    if (t.shared) {
      // The lock key: a declared name, else the host identity (local targets: this machine's workdir).
      plan.shared =
        typeof t.shared === 'string'
          ? `name:${t.shared}`
          : t.transport === 'ssh'
            ? `${plan.host}:${plan.port}`
            : `local:${plan.workdir}`;
    }
    if (t.transport === 'ssh') {
      if (keyPath) plan.privateKeyPath = resolvePath(keyPath);
      if (keyEnv) plan.privateKeyEnv = keyEnv;
      plan.knownHostsPath = resolvePath(t.knownHostsPath ?? cfg.ssh.knownHostsPath ?? '~/.ssh/known_hosts');
    }
    targets.push(plan);
  }
  const byName = new Map(targets.map((t) => [t.name, t]));

  // Groups: every `@name` must be declared (so a typo never silently means nobody, or anybody); an empty
  // member list is allowed (a team between members) but a list naming only it lets nobody act.
  const warnings: string[] = [];
  for (const [gname, g] of Object.entries(cfg.groups)) {
    if (Array.isArray(g) && g.length === 0) {
      warnings.push(
        `${formatPath(['groups', gname])}: empty group: a starters or approvers list naming only it lets nobody act`,
      );
    }
  }
  const checkWho = (list: readonly string[], p: PropertyKey[]) =>
    list.forEach((entry, i) => {
      if (!entry.startsWith('@')) return;
      const g = entry.slice(1);
      if (ownValue(cfg.groups, g) === undefined) {
        const known = Object.keys(cfg.groups).join(', ') || 'none';
        at(
          [...p, i],
          `undefined group "${entry}": declare it under groups (members, or { slack: <handle> }); known: ${known}`,
        );
      }
    });

  // Deployables
  for (const [dname, d] of Object.entries(cfg.deployables)) {
    const dp = ['deployables', dname];
    checkWho(d.starters, [...dp, 'starters']);
    checkWho(d.approvers, [...dp, 'approvers']);
    const to = d.reminders?.escalateTo;
    if (to?.startsWith('@') && ownValue(cfg.groups, to.slice(1)) === undefined) {
      at(
        [...dp, 'reminders', 'escalateTo'],
        `undefined group "${to}": declare it under groups; known: ${Object.keys(cfg.groups).join(', ') || 'none'}`,
      );
    }
    d.process.forEach((s, i) => {
      if (s.type === 'manual') checkWho(s.approvers, [...dp, 'process', i, 'approvers']);
      if (s.type === 'double-half') {
        // Paths on the worker's host are resolved like a local target's (relative: to this file's directory).
        s.hookWorkdir = resolvePath(s.hookWorkdir ?? path.join(cfg.defaults.workdir, 'hooks', dname, s.name));
        s.newTargets.knownHostsPath = resolvePath(s.newTargets.knownHostsPath);
        if (s.newTargets.privateKeyPath) s.newTargets.privateKeyPath = resolvePath(s.newTargets.privateKeyPath);
        for (const [k, v] of Object.entries(s.newTargets.variables)) {
          const bad = checkVariableName(k) ?? checkVariableValue(k, v);
          if (bad) at([...dp, 'process', i, 'newTargets', 'variables', k], bad);
        }
      }
    });
    // One rule for the deployable's and its environments' variables: plain values checked, MaxParallelism never a
    // secret, a literal secret's value checked like a plain one.
    const checkVariable = (k: string, v: string | SecretRef): string | undefined =>
      checkVariableName(k) ??
      (typeof v !== 'string'
        ? k === MAX_PARALLELISM
          ? `${MAX_PARALLELISM} is read by the workflow: it cannot be a secret`
          : 'value' in v
            ? checkVariableValue(k, v.value)
            : undefined
        : (checkVariableValue(k, v) ?? (k === MAX_PARALLELISM ? checkMaxParallelism(v) : undefined)));
    for (const [k, v] of Object.entries(d.variables)) {
      const bad = checkVariable(k, v);
      if (bad) at([...dp, 'variables', k], bad);
    }
    const freezeNames = new Set<string>();
    d.freezes.forEach((f, i) => {
      if (Date.parse(f.until) <= Date.parse(f.from)) at([...dp, 'freezes', i, 'until'], 'must be later than from');
      const fname = f.name ?? `freezes[${i}]`;
      if (freezeNames.has(fname)) at([...dp, 'freezes', i, 'name'], `duplicate freeze name "${fname}"`);
      freezeNames.add(fname);
    });
    const checkTargets = (refs: readonly string[], p: PropertyKey[]) =>
      refs.forEach((ref, i) => {
        if (ref.startsWith('tag:')) {
          const tag = ref.slice(4);
          if (!targets.some((t) => t.tags.includes(tag))) at([...p, i], `no target carries tag "${tag}"`);
        } else if (!byName.has(ref)) {
          at([...p, i], `unknown target "${ref}" (known: ${[...byName.keys()].join(', ') || 'none'})`);
        }
      });
    checkTargets(d.targets, [...dp, 'targets']);
    const envs = Object.entries(d.environments ?? {});
    for (const [ename, e] of envs) {
      const ep = [...dp, 'environments', ename];
      if (e.targets) checkTargets(e.targets, [...ep, 'targets']);
      if (e.starters) checkWho(e.starters, [...ep, 'starters']);
      if (e.approvers) checkWho(e.approvers, [...ep, 'approvers']);
      for (const [k, v] of Object.entries(e.variables)) {
        const bad = checkVariable(k, v);
        if (bad) at([...ep, 'variables', k], bad);
      }
    }
    // With environments, the process runs on each environment's targets: the checks below look at all of them.
    const deployTargets =
      envs.length > 0
        ? selectTargets(
            targets,
            envs.flatMap(([, e]) => e.targets ?? d.targets),
          )
        : selectTargets(targets, d.targets);
    /** A variable every environment declares counts as declared (each rollout runs in one of them). */
    const declared = (ref: string) =>
      ownValue(d.variables, ref) !== undefined ||
      (envs.length > 0 && ref === ENVIRONMENT_VARIABLE) ||
      (envs.length > 0 && envs.every(([, e]) => ownValue(e.variables, ref) !== undefined));
    const seen = new Set<string>();
    const earlier = new Set<string>();
    d.process.forEach((step, i) => {
      const sp = [...dp, 'process', i];
      const names = [step.name, ...(step.type === 'rolling' ? step.childSteps.map((c) => c.name) : [])];
      names.forEach((n, j) => {
        if (seen.has(n))
          at(j === 0 ? [...sp, 'name'] : [...sp, 'childSteps', j - 1, 'name'], `duplicate step name "${n}"`);
        seen.add(n);
      });
      let stepTargets = deployTargets;
      if (step.type !== 'manual' && step.tags.length > 0) {
        stepTargets = deployTargets.filter((t) => step.tags.some((tag) => t.tags.includes(tag)));
        if (stepTargets.length === 0)
          at([...sp, 'tags'], `no target of this deployable carries any of ${step.tags.join(', ')}`);
      }
      const checkIf = (expr: string | undefined, p: PropertyKey[], visible: Set<string>) => {
        if (expr === undefined) return;
        try {
          for (const ref of outputStepsReferenced(expr)) {
            if (!visible.has(ref)) at(p, `reads Output of "${ref}", which is not an earlier step or child step`);
          }
        } catch (e) {
          if (e instanceof ExpressionError) at(p, `bad condition: ${e.message}`);
          else throw e;
        }
      };
      const checkScript = (script: string, p: PropertyKey[], visible: Set<string>) => {
        for (const ref of referencedVariables(script)) {
          if (BUILTIN_VARIABLES.has(ref) || declared(ref)) continue;
          if (ref.startsWith('Output.')) {
            const rest = ref.slice(7);
            const dot = rest.lastIndexOf('.');
            if (dot > 0 && visible.has(rest.slice(0, dot))) continue;
            at(p, `#{${ref}} reads the output of a step that does not run earlier`);
            continue;
          }
          if (
            stepTargets.length > 0 &&
            stepTargets.every(
              (t) => ownValue(t.variables, ref) !== undefined || ownValue(t.secrets ?? {}, ref) !== undefined,
            )
          )
            continue;
          const where = envs.length > 0 ? ', in every environment' : '';
          at(
            p,
            `unknown variable #{${ref}} (declare it under deployables.${dname}.variables${where} or on every target)`,
          );
        }
      };
      checkIf(step.if, [...sp, 'if'], earlier);
      if (step.type === 'rolling') {
        if (step.window === undefined && step.ramp === undefined)
          at([...sp, 'window'], 'is required for a rolling step (a count, a percentage, a list, or give a ramp)');
        if (step.window !== undefined && step.ramp !== undefined)
          at([...sp, 'ramp'], 'give either window or ramp, not both');
      }
      if (step.type === 'script') checkScript(step.script, [...sp, 'script'], earlier);
      if (step.type === 'rolling') {
        const visible = new Set(earlier);
        step.childSteps.forEach((c, j) => {
          checkIf(c.if, [...sp, 'childSteps', j, 'if'], visible);
          if (c.script !== undefined) checkScript(c.script, [...sp, 'childSteps', j, 'script'], visible);
          const a = c.artifact;
          if (a) {
            const ap = [...sp, 'childSteps', j, 'artifact'];
            checkScript(a.source, [...ap, 'source'], visible);
            if (a.sha256 !== undefined) checkScript(a.sha256, [...ap, 'sha256'], visible);
            if (a.sha256File !== undefined) checkScript(a.sha256File, [...ap, 'sha256File'], visible);
          }
          visible.add(c.name);
        });
      }
      for (const n of names) earlier.add(n);
    });
  }

  if (problems.length > 0) throw new ConfigError(source, problems);
  return { source, raw: cfg, targets, warnings };
}

/** Plain variables and secret references (domain/secrets.ts) of one `variables:` block. */
export function splitVariables(vars: Record<string, string | SecretRef>): {
  plain: Record<string, string>;
  secrets: Record<string, SecretRef>;
} {
  const plain: Record<string, string> = {};
  const secrets: Record<string, SecretRef> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === 'string') plain[k] = v;
    else secrets[k] = v;
  }
  return { plain, secrets };
}

/** Targets a deployable reaches, in the file's order. */
export function selectTargets(all: TargetPlan[], refs: string[]): TargetPlan[] {
  const names = new Set(refs.filter((r) => !r.startsWith('tag:')));
  const tags = new Set(refs.filter((r) => r.startsWith('tag:')).map((r) => r.slice(4)));
  return all.filter((t) => names.has(t.name) || t.tags.some((tag) => tags.has(tag)));
}
