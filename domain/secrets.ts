// Secrets by reference. A variable may be declared sensitive and taken from the worker's environment or a file:
//   DB_PASSWORD: { fromEnv: DB_PASSWORD, sensitive: true }
//   API_TOKEN:   { fromFile: /run/secrets/api-token, sensitive: true }
//   BANNER:      { value: "not secret, but keep it out of output", sensitive: true }
// Only the REFERENCE travels in plans, workflow inputs and history (TargetPlan.secrets); the script activity reads
// the value on the worker just before it runs the script and masks it in everything it returns (domain/masking.ts).
// A `{ value }` literal does travel in the plan (it is in the config file anyway): it is masked in output only.
// `sensitive: false` on fromEnv/fromFile resolves on the worker without masking (worker-local settings).
// Plain data (JSON), shared by src/config (validation, plans) and the activities (resolution).

export type SecretRef =
  | { fromEnv: string; sensitive: boolean }
  | { fromFile: string; sensitive: boolean }
  | { value: string; sensitive: true };

export const SECRET_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A short, value-free description of a reference, for messages: `env DB_PASSWORD`, `file /run/secrets/db`. */
export function describeRef(ref: SecretRef): string {
  if ('fromEnv' in ref) return `environment variable ${ref.fromEnv}`;
  if ('fromFile' in ref) return `file ${ref.fromFile}`;
  return 'a literal value';
}

export function isSecretRef(v: unknown): v is SecretRef {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.fromEnv === 'string' || typeof o.fromFile === 'string' || typeof o.value === 'string';
}
