// Variables in scripts. Pure functions: used by config validation (src/), by activities and by tests.
//
// Substitution: `#{Name}` in a script becomes the value as ONE single-quoted shell word (so never quote it
// yourself). `##{Name}` is a literal `#{Name}`. Names: Release, Deployable, RequestedBy, Step.Name, Machine.Name,
// Output.<step>.<name> (this machine's output variables) and any rollout/deployable/target variable by its name.
// Environment: the same values are exported as ROLLOUT_RELEASE, ROLLOUT_DEPLOYABLE, ROLLOUT_REQUESTED_BY,
// ROLLOUT_STEP, ROLLOUT_MACHINE_NAME, ROLLOUT_VAR_<NAME> and ROLLOUT_OUTPUT_<STEP>_<NAME> (upper-cased,
// other characters than letters and digits become _).

/**
 * A release: starts with a letter or digit, then letters, digits and . _ - + (at most 128 characters). It lands
 * in scripts, paths and Slack text, so it is kept to characters that mean nothing to a shell or to mrkdwn.
 */
export const RELEASE_MAX_LENGTH = 128;
/** The punctuation a release may hold besides letters and digits, as shown to users. */
export const RELEASE_SYMBOLS = '. _ - +';
export const RELEASE_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,${RELEASE_MAX_LENGTH - 1}}$`);
export const RELEASE_RULE = `a release starts with a letter or digit and holds only letters, digits and ${RELEASE_SYMBOLS} (at most ${RELEASE_MAX_LENGTH} characters)`;

export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;

export function checkRelease(release: string): string | undefined {
  return RELEASE_PATTERN.test(release) ? undefined : `invalid release "${truncate(release)}": ${RELEASE_RULE}`;
}

/**
 * Values may hold any printable text (they are always quoted), but never control characters: a NUL or a newline
 * in a value could end the quoting in some consumer, and no deploy variable needs one.
 */
export function checkVariableValue(name: string, value: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(value))
    return `variable ${name}: control characters (newline, NUL, …) are not allowed`;
  if (value.length > 4096) return `variable ${name}: longer than 4096 characters`;
  return undefined;
}

export function checkVariableName(name: string): string | undefined {
  return VARIABLE_NAME_PATTERN.test(name)
    ? undefined
    : `variable name "${truncate(name)}" must start with a letter or _ and hold only letters, digits, _ . -`;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** POSIX shell single-quoting: 'it'\''s'. Safe for any string without NUL (no shell argument can hold one). */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('shell values cannot contain NUL characters');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface VariableContext {
  release: string;
  deployable: string;
  requestedBy: string;
  stepName: string;
  machineName: string;
  variables: Record<string, string>;
  outputs: Record<string, Record<string, string>>;
}

const REF = /(#?)#\{([^}]*)\}/g;

/** Looks a `#{...}` name up; undefined when it does not exist. */
export function lookupVariable(name: string, c: VariableContext): string | undefined {
  switch (name) {
    case 'Release':
      return c.release;
    case 'Deployable':
      return c.deployable;
    case 'RequestedBy':
      return c.requestedBy;
    case 'Step.Name':
      return c.stepName;
    case 'Machine.Name':
      return c.machineName;
  }
  if (name.startsWith('Output.')) {
    const rest = name.slice('Output.'.length);
    // Step names may contain dots; the output name is the part after the last dot.
    const dot = rest.lastIndexOf('.');
    if (dot <= 0) return undefined;
    return c.outputs[rest.slice(0, dot)]?.[rest.slice(dot + 1)];
  }
  return Object.prototype.hasOwnProperty.call(c.variables, name) ? c.variables[name] : undefined;
}

/** Names referenced by `#{...}` in a script (for config-time checks). */
export function referencedVariables(script: string): string[] {
  const names: string[] = [];
  for (const m of script.matchAll(REF)) if (m[1] !== '#') names.push((m[2] ?? '').trim());
  return names;
}

export class SubstitutionError extends Error {}

export function substitute(script: string, c: VariableContext): string {
  return script.replace(REF, (whole, escape: string, rawName: string) => {
    if (escape === '#') return whole.slice(1);
    const name = rawName.trim();
    const value = lookupVariable(name, c);
    if (value === undefined) throw new SubstitutionError(`unknown variable #{${name}}`);
    return shellQuote(value);
  });
}

/** The same `#{Name}` references in prose (manual-step instructions): plain values, unknown names left as written. */
export function substituteText(text: string, c: VariableContext): string {
  return text.replace(REF, (whole, escape: string, rawName: string) =>
    escape === '#' ? whole.slice(1) : (lookupVariable(rawName.trim(), c) ?? whole),
  );
}

export function envName(...parts: string[]): string {
  return parts.map((p) => p.toUpperCase().replace(/[^A-Z0-9]/g, '_')).join('_');
}

export function scriptEnvironment(c: VariableContext): Record<string, string> {
  const env: Record<string, string> = {
    ROLLOUT_RELEASE: c.release,
    ROLLOUT_DEPLOYABLE: c.deployable,
    ROLLOUT_REQUESTED_BY: c.requestedBy,
    ROLLOUT_STEP: c.stepName,
    ROLLOUT_MACHINE_NAME: c.machineName,
  };
  for (const [k, v] of Object.entries(c.variables)) env[envName('ROLLOUT_VAR', k)] = v;
  for (const [step, outs] of Object.entries(c.outputs)) {
    for (const [k, v] of Object.entries(outs)) env[envName('ROLLOUT_OUTPUT', step, k)] = v;
  }
  return env;
}
