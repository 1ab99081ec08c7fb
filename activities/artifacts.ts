// Artifacts: a child step that copies a file from the worker to the target over SFTP and verifies its SHA-256
// there before anything uses it. The file is uploaded under a temporary name (`<dir>/.incoming/<sha256>.part`),
// checked on the target with `sha256sum`, and only then renamed into `<dir>/<release>/<file>`: a wrong checksum
// deletes the upload and fails the child step, so the release directory never holds an unverified file. After
// the rename, the releases kept in `<dir>` are the newest `keep` (older ones pruned), for a fast rollback.
// The upload is idempotent (same name for the same content); the verify-rename-prune script runs through the
// transport as any script does, so run-once applies to it (a retry re-attaches, it never runs it twice).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { ArtifactPlan } from '../domain/plan';
import { lookupVariable, shellQuote, SubstitutionError, type VariableContext } from '../domain/variables';

const SHA256 = /^[0-9a-f]{64}$/;

/** Exit code of the verify script when the checksum is wrong (EX_DATAERR). */
export const CHECKSUM_MISMATCH_EXIT = 65;

export interface PreparedArtifact {
  /** The file on the worker. */
  source: string;
  /** The expected SHA-256 (lower-case hex). */
  sha256: string;
  /** Where it is uploaded, relative to the target's workdir. */
  incoming: string;
  /** The script run on the target (cwd = workdir): verify, rename, prune. */
  script: string;
}

function refuse(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'artifact-invalid');
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves the artifact's source and expected checksum (substituting variables) and builds its target script. */
export async function prepareArtifact(a: ArtifactPlan, ctx: VariableContext): Promise<PreparedArtifact> {
  // The paths are substituted raw (no shell quoting: they are file names on the worker, not shell text).
  const raw = (s: string) =>
    s.replace(/(#?)#\{([^}]*)\}/g, (whole, escape: string, rawName: string) => {
      if (escape === '#') return whole.slice(1);
      const value = lookupVariable(rawName.trim(), ctx);
      if (value === undefined) throw new SubstitutionError(`unknown variable #{${rawName.trim()}}`);
      return value;
    });
  const source = raw(a.source);
  try {
    await access(source, constants.R_OK);
  } catch {
    throw refuse(`artifact ${source} does not exist or cannot be read on the worker`);
  }
  let expected: string;
  if (a.sha256 !== undefined) {
    expected = raw(a.sha256).trim().toLowerCase();
  } else {
    const file = raw(a.sha256File ?? `${source}.sha256`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw refuse(`checksum file ${file} cannot be read on the worker: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    expected = (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
  }
  if (!SHA256.test(expected))
    throw refuse(`the expected SHA-256 of ${source} is not 64 hex digits: "${expected.slice(0, 80)}"`);
  const file = path.basename(source);
  const incoming = `${a.dir}/.incoming/${expected}.part`;
  const q = shellQuote;
  const script = [
    'set -eu',
    `dir=${q(a.dir)}; rel=${q(ctx.release)}; file=${q(file)}; want=${q(expected)}; keep=${a.keep}`,
    'part="$dir/.incoming/$want.part"',
    'if [ ! -f "$part" ]; then echo "upload $part is missing" >&2; exit 66; fi',
    'got=$(sha256sum "$part" | cut -d" " -f1)',
    'if [ "$got" != "$want" ]; then',
    '  rm -f -- "$part"',
    `  echo "checksum mismatch for $file: expected $want, got $got; the upload was deleted, nothing uses it" >&2`,
    `  exit ${CHECKSUM_MISMATCH_EXIT}`,
    'fi',
    'mkdir -p -- "$dir/$rel"',
    'mv -f -- "$part" "$dir/$rel/$file"',
    'touch -- "$dir/$rel"',
    'echo "verified $file ($want) into $dir/$rel"',
    // The newest `keep` releases stay (the one just placed is the newest); older ones are pruned.
    'ls -1t -- "$dir" | tail -n +$((keep + 1)) | while IFS= read -r old; do',
    '  [ -n "$old" ] && rm -rf -- "${dir:?}/$old" && echo "pruned $old"',
    'done',
    'set_output Path "$dir/$rel/$file"',
  ].join('\n');
  return { source, sha256: expected, incoming, script };
}
