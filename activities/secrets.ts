// Resolving secret references on the worker (see domain/secrets.ts), just before a script runs.
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { SecretRef } from '../domain/secrets';
import { describeRef } from '../domain/secrets';

/** Where secret values come from. Injected (createActivities deps); tests pass their own. */
export interface SecretSource {
  /** The worker's environment variable `name`, or undefined when unset. */
  env(name: string): string | undefined;
  /** The content of the file at `path` (absolute, on the worker). Rejects when it cannot be read. */
  readFile(path: string): Promise<string>;
}

/** The worker's own environment and file system (the environment handed over by src/env.ts). */
export function workerSecretSource(environment: Readonly<Record<string, string | undefined>>): SecretSource {
  return {
    env: (name) => (Object.prototype.hasOwnProperty.call(environment, name) ? environment[name] : undefined),
    readFile: (path) => readFile(path, 'utf8'),
  };
}

/** Failure type of a secret that cannot be resolved: non-retryable (it will not appear by retrying). */
export const SECRET_UNAVAILABLE = 'secret-unavailable';

/** Deliberately empty variables are allowed only when they are literals; an unset or empty env var is refused. */
export async function resolveSecrets(
  refs: Record<string, SecretRef> | undefined,
  source: SecretSource | undefined,
  who: string,
): Promise<{ values: Record<string, string>; sensitive: string[] }> {
  const values: Record<string, string> = {};
  const sensitive: string[] = [];
  const entries = Object.entries(refs ?? {});
  if (entries.length === 0) return { values, sensitive };
  const fail = (message: string): never => {
    throw ApplicationFailure.create({ message: `${who}: ${message}`, type: SECRET_UNAVAILABLE, nonRetryable: true });
  };
  for (const [name, ref] of entries) {
    let v: string;
    if ('value' in ref) v = ref.value;
    else if (!source) return fail(`variable ${name}: this worker has no secret source to read ${describeRef(ref)}`);
    else if ('fromEnv' in ref) {
      const got = source.env(ref.fromEnv);
      if (got === undefined || got === '')
        return fail(`variable ${name}: environment variable ${ref.fromEnv} is not set on the worker`);
      v = got;
    } else {
      try {
        v = await source.readFile(ref.fromFile);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
        return fail(`variable ${name}: cannot read secret file ${ref.fromFile} on the worker (${code})`);
      }
      // Files usually end with a newline nobody means as part of the value.
      v = v.replace(/\r?\n$/, '');
      if (v === '') return fail(`variable ${name}: secret file ${ref.fromFile} is empty`);
    }
    if (/[\u0000-\u001f\u007f]/.test(v))
      return fail(`variable ${name}: the value from ${describeRef(ref)} holds control characters (newline, NUL, …)`);
    values[name] = v;
    if (ref.sensitive) sensitive.push(v);
  }
  return { values, sensitive };
}
