// The shell commands that run a user script on a target, shared by the SSH and the local transport, and the
// driver that follows a run and turns it into a ScriptResult.
//
// A run is DETACHED from the connection that started it: its outcome is recorded on the target, so neither a lost
// SSH connection nor a dead worker changes what the script does or what the rollout learns about it.
//
// Protocol on the target. Everything lives in the target's workdir; run files are private (umask 077):
//
//   <workdir>/.rollout.lock                      flock: one script at a time per target (as before)
//   <workdir>/.rollout/runs/<runId>/             the run; `mkdir` of this directory is the atomic CLAIM: the script
//                                                of a run id is started at most once, ever
//       script      the script text (removed when the run ends)
//       out, err    the script's stdout and stderr (append-only log files; the script never writes to the SSH channel)
//       alive       flock held by the run's supervisor for as long as it lives
//       launched    directory: the supervisor took the run (or a follower declared the start interrupted)
//       supervisor  pid of the supervisor (a session and process group of its own)
//       started     epoch ms when the script started (after the target lock)
//       pgid        process group (and session) id of the script
//       cancel      written by the kill command: never start, or stop
//   <workdir>/.rollout/runs/<runId>.cancelled    tombstone: cancelled before it was claimed (it then never starts)
//   <workdir>/.rollout/swept                     epoch ms of the last retention sweep (at most one per SWEEP_EVERY_MS)
//       timedout    written by the supervisor's watchdog when the script hit its timeout
//       status      the OUTCOME, one line `reason=<exited|timeout|cancelled|unlaunched> exit=<n> started=<ms>
//                   ended=<ms>`, published atomically (written to a temp file, then `ln`: the first writer wins
//                   and readers never see half a line)
//
// Who writes what:
//   - the START command (buildRemoteCommand, mode start) claims the run directory, stores the script (stdin:
//     the env exports then the script text; the exports are read into a shell variable and never written to disk
//     or put on a command line), starts the SUPERVISOR detached (a subshell in a process group of its own, stdin
//     /dev/null, stdout and stderr appended to out/err) and then follows the run like an attach does;
//   - the SUPERVISOR takes the alive lock, waits for the target lock, starts the script in a session and process
//     group of its own, enforces the timeout on the target (TERM to the script's group, KILL after the grace) and
//     publishes the status;
//   - a FOLLOWER (the tail of every start/attach command) streams out/err to the worker as framed chunks, sends a
//     ping every poll, and ends with the status. It reports `lost` when the supervisor died without an outcome
//     (target rebooted, process killed), and publishes `unlaunched` for a claim whose start was interrupted before
//     the supervisor ever ran (nothing ran);
//   - the KILL command (cancel) marks the run cancelled, publishes `cancelled` unless an outcome is already
//     there, and kills the supervisor and the script's whole group (TERM, then KILL after a grace).
// Over SSH the start, attach and follow commands usually run on a POOLED exec channel (see POOL_LOOP below): the
// same command and stdin, the same frames; only the channel outlives the command.
// Nothing else ever starts a script. Runs are removed by housekeeping (see ScriptRequest.cleanupRunIds and the
// retention sweep in the start command), never while they may still be running.
//
// The follower's frames on stdout: first one line `rollout-run C` (this command started the run), `rollout-run A`
// (attached to an existing run), `rollout-run G` (no such run: attach only) or `rollout-run X <message>` (could not
// set the run up; anything a login shell prints before it is skipped); then `O <n>` / `E <n>` followed by n raw
// bytes of stdout / stderr, `P` (ping, every poll), and `S <status line>` at the end.

import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { MASK_OUTPUT_SHELL_FUNCTION } from '../../domain/masking';
import { shellQuote } from '../../domain/variables';
import { parseOutputLine, SET_OUTPUT_SHELL_FUNCTION } from '../outputVariables';
import {
  DetachedError,
  TAIL_LIMIT,
  TransportError,
  type RunOutcome,
  type ScriptRequest,
  type ScriptResult,
} from './types';

export { shellQuote };

/** Quotes a path for the shell, keeping a leading `~/` (or a lone `~`) as the login user's home directory. */
export function shellPath(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shellQuote(path.slice(2))}`;
  return shellQuote(path);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_ID = /^[A-Za-z0-9_-]{1,120}$/;

/** A fresh run id (for runs nobody needs to find again). */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id: ${runId}`);
}

export const LOCK_FILE = '.rollout.lock';
/** Where runs live, relative to the workdir. */
export const RUNS_DIR = '.rollout/runs';

/** A run's directory relative to the workdir. */
export function runDir(runId: string): string {
  assertRunId(runId);
  return `${RUNS_DIR}/${runId}`;
}

/** Set (not exported) in a pooled channel's loop: a command that sees it runs in that bash's subshell. */
const POOL_FLAG = '_rollout_pool_loop';

/** Exit code the script launcher uses when the run was cancelled before the script started. */
export const CANCELLED_EXIT_CODE = 125;

/** Finished runs older than this are removed by the next start on the target (default 7 days). */
export const DEFAULT_RUN_RETENTION_MS = 7 * 24 * 3600_000;
/** The retention sweep runs at most this often per workdir (or as often as the retention, if that is shorter). */
export const SWEEP_EVERY_MS = 10 * 60_000;
/** A claim whose supervisor has not appeared after this long was interrupted before anything ran. */
export const UNLAUNCHED_AFTER_MS = 30_000;

// ---- shell fragments (bash; internal names start with _r_ so that they do not meet the script's env) ----------

// Epoch ms. bash >= 5 has $EPOCHREALTIME (seconds with 6 decimals: no process); older shells fork `date`.
// `_r_stamp` sets $_r_t only (no subshell); `_r_now` prints it (for `$(_r_now)` and redirections).
const NOW_FN = [
  '_r_stamp() { _r_t=${EPOCHREALTIME:-}; _r_t=${_r_t//[!0-9]/}; if [ ${#_r_t} -gt 12 ]; then _r_t=${_r_t%???}; else _r_t=$(date +%s%3N 2>/dev/null); fi',
  '  case $_r_t in ""|*[!0-9]*) _r_t=$(( $(date +%s) * 1000 ));; esac; }',
  '_r_now() { _r_stamp; printf %s "$_r_t"; }',
].join('\n');
// Sets $_r_sec to $1 ms as seconds with 3 decimals (printf -v: no subshell).
const SECS_FN = "_r_secs() { printf -v _r_sec '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }";
// Wakes the followers of run $_r_d now instead of at their next poll: writes $1 lines into the run's `wake` FIFO.
// A follower naps by reading that FIFO with a timeout, so a line ends its nap at once; a spare line costs one extra
// look. No process: the builtin printf writes through a read-write open (`1<>`), which never blocks on a FIFO
// (Linux), reader or not; with no reader the lines are dropped when it closes. No FIFO (a run claimed by an older
// version, whose followers poll, or the run directory already removed) and nothing is written: `-p` is checked
// first. (Removed between that check and the open, the FIFO would come back as a plain file in a directory being
// removed: its `rm -rf` then leaves the directory, and the retention sweep takes it later.)
const WAKE_FN =
  '_r_wake() { [ -p "$_r_d/wake" ] && { [ "$1" = 1 ] && _r_wl=$\'w\\n\' || _r_wl=$\'w\\nw\\nw\\nw\\n\'; { printf %s "$_r_wl" 1<>"$_r_d/wake"; } 2>/dev/null; }; return 0; }';
// Publishes the outcome of run $_r_d once: the first writer wins (ln fails if the status exists), then wakes the
// followers (up to 4 at once; the others see it at their next poll).
const PUBLISH_FN = [
  WAKE_FN,
  '_r_publish() {',
  // ($BASHPID, not $$: the start command may run in a subshell of a pooled channel's loop, whose $$ is the loop's)
  '  _r_p="$_r_d/.status.$BASHPID"',
  '  _r_st=; { read -r _r_st < "$_r_d/started"; } 2>/dev/null; _r_stamp',
  `  printf 'reason=%s exit=%s started=%s ended=%s\\n' "$1" "$2" "$_r_st" "$_r_t" > "$_r_p" &&`,
  '    ln "$_r_p" "$_r_d/status" 2>/dev/null',
  // (the supervisor's last publish leaves the temp name to its final rm: one process less)
  '  [ -n "${_r_lazy:-}" ] || rm -f "$_r_p"',
  '  _r_wake 4',
  '}',
].join('\n');
// Zombies count as gone (they may wait a while for an init that reaps slowly).
const ALIVE_FN =
  '_r_alive() { if command -v ps >/dev/null 2>&1; then ps -e -o pgid= -o stat= 2>/dev/null | ' +
  `awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; else kill -0 -- "-$1" 2>/dev/null; fi; }`;
// SIGTERM to a whole group, SIGKILL to what is left after $_r_steps tenths of a second.
const KILL_GROUP_FN = [
  '_r_killgroup() {',
  '  kill -TERM -- "-$1" 2>/dev/null || return 0',
  '  _r_i=0',
  '  while [ $_r_i -lt "$_r_steps" ] && _r_alive "$1"; do sleep 0.1; _r_i=$((_r_i+1)); done',
  '  kill -KILL -- "-$1" 2>/dev/null',
  '  return 0',
  '}',
].join('\n');

// bash's loadable builtins for the file commands of a run: `mkdir` (the claim and `launched`), `mkfifo`, `ln` (the
// publish) and `rm`, each otherwise a program, about 1 ms of a target's CPU apiece (the dynamic loader's start-up
// mostly): about half of what a run costs the target. They ship with the distribution's bash (Debian and Ubuntu:
// `bash-builtins`), built for exactly that bash, so they are looked for in /usr/lib/bash and /usr/lib64/bash only
// when the running bash is the distribution's one. ROLLOUT_BASH_LOADABLES in the target's environment replaces
// those directories (`:`-separated; empty turns them off). (Not bash's own BASH_LOADABLES_PATH: bash gives that a
// default, with `.` in it, whenever the environment does not.) Missing, each is the program as before, with the
// same arguments and exit statuses (test/transports/loadables.test.ts; `rmdir` is left out: its builtin takes `--`
// for a name). A script runs in a bash of its own (exec), which has none of them. Enabled once per shell: a pooled
// channel's loop does it when it starts.
export const LOADABLE_BUILTINS = ['mkdir', 'rm', 'ln', 'mkfifo'] as const;
export const DEFAULT_LOADABLES_PATH = '/usr/lib/bash:/usr/lib64/bash';
const BUILTINS_FN = [
  '_r_builtins() {',
  '  [ -n "${ROLLOUT_BASH_LOADABLES+x}" ] || case ${BASH:-} in /bin/bash|/usr/bin/bash) ;; *) return 0;; esac',
  `  _r_ifs=$IFS; IFS=:; for _r_ld in \${ROLLOUT_BASH_LOADABLES-${DEFAULT_LOADABLES_PATH}}; do IFS=$_r_ifs`,
  '    [ -n "$_r_ld" ] && [ -f "$_r_ld/mkdir" ] || continue',
  `    for _r_b in ${LOADABLE_BUILTINS.join(' ')}; do enable -f "$_r_ld/$_r_b" "$_r_b" 2>/dev/null; done; break`,
  '  done; IFS=$_r_ifs; return 0',
  '}',
].join('\n');

/**
 * The supervisor's body: `_r_supervise <runDir> <timeoutMs> <killGraceSteps>` in a subshell of the start command,
 * cwd = the workdir. It was a `setsid bash -c` of its own; a subshell in a process group of its own (`set -m` for
 * its fork) is two execs less on the way to the script, and the kill command still finds its whole group.
 */
const SUPERVISOR = [
  '_r_d=$1; _r_tmo=$2; _r_steps=$3',
  'exec 8>>"$_r_d/alive" && flock -w 5 8 || exit 0',
  // A follower that found the claim abandoned may have declared it unlaunched: then this run never starts.
  'mkdir "$_r_d/launched" 2>/dev/null || exit 0',
  'echo $BASHPID > "$_r_d/supervisor"',
  NOW_FN,
  SECS_FN,
  PUBLISH_FN,
  '_r_wake 1', // the start command waits for `launched`
  ALIVE_FN,
  KILL_GROUP_FN,
  '[ -e "$_r_d/cancel" ] && { _r_publish cancelled ""; exit 0; }',
  '_r_stamp; _r_t0=$_r_t',
  // Sets $_r_l to the ms left of the timeout (a function setting a variable, not $(...): no subshell per call).
  '_r_left() { _r_stamp; _r_l=$(( _r_tmo - (_r_t - _r_t0) )); }',
  `exec 9>>${LOCK_FILE} || { echo "rollout: cannot open $(pwd)/${LOCK_FILE}" >&2; _r_publish exited 1; exit 0; }`,
  'if [ "$_r_tmo" -gt 0 ]; then',
  '  _r_left; [ "$_r_l" -gt 0 ] || _r_l=1; _r_secs "$_r_l"',
  '  if ! flock -w "$_r_sec" 9; then',
  '    _r_left; if [ "$_r_l" -le 0 ]; then echo "rollout: timed out waiting for the target lock (another run holds it)" >&2; _r_publish timeout ""',
  `    else echo "rollout: cannot lock ${LOCK_FILE} (is flock installed?)" >&2; _r_publish exited 1; fi`,
  '    exit 0',
  '  fi',
  'else',
  `  flock 9 || { echo "rollout: cannot lock ${LOCK_FILE} (is flock installed?)" >&2; _r_publish exited 1; exit 0; }`,
  'fi',
  '[ -e "$_r_d/cancel" ] && { _r_publish cancelled ""; exit 0; }',
  '_r_now > "$_r_d/started"',
  // The script gets a process group of its own, no stdin, and neither lock descriptor (a daemon it starts must not
  // keep the target locked or the run "alive"). The launcher is a subshell, not a bash of its own: it writes its
  // pid, looks for `cancel`, then becomes the script (one exec, same pid). Its group is made by job control (`set
  // -m` for this one fork, as for the supervisor; it was `setsid`, a program more per run): bash calls setpgid in
  // the parent and in the child before either goes on, so the group exists from the fork, its id is the pid the
  // launcher writes, and a kill of the group from the watchdog or the kill command reaches it at any point. No
  // session of its own is needed: an exec channel has no terminal, so nothing sends the session a SIGHUP.
  `set -m; ( echo $BASHPID > "$_r_d/pgid"; [ -e "$_r_d/cancel" ] && exit ${CANCELLED_EXIT_CODE}; exec bash "$_r_d/script" ) </dev/null 8>&- 9>&- & set +m`,
  '_r_s=$!',
  '_r_w=',
  'if [ "$_r_tmo" -gt 0 ]; then',
  '  _r_left; [ "$_r_l" -gt 0 ] || _r_l=1; _r_secs "$_r_l"',
  // The watchdog naps in `read -t` on a pipe nobody writes to (no `sleep` process; killed by TERM while it naps).
  '  ( exec 6<> <(:); read -r -t "$_r_sec" -u 6 _',
  '    : > "$_r_d/timedout"; _r_killgroup "$_r_s" ) </dev/null >/dev/null 2>&1 8>&- 9>&- &',
  '  _r_w=$!',
  'fi',
  'wait "$_r_s"; _r_rc=$?; _r_lazy=1',
  'if [ -e "$_r_d/timedout" ]; then wait "$_r_w" 2>/dev/null; _r_publish timeout ""',
  `elif [ "$_r_rc" = ${CANCELLED_EXIT_CODE} ] && [ -e "$_r_d/cancel" ]; then _r_publish cancelled ""`,
  'else _r_publish exited "$_r_rc"; fi',
  '[ -n "$_r_w" ] && kill "$_r_w" 2>/dev/null',
  'rm -f "$_r_d/script" "$_r_d/.status.$BASHPID"',
  'exit 0',
].join('\n');

export interface RemoteCommandInput {
  workdir: string;
  env: Record<string, string>;
  runId: string;
}

export interface RunCommandOptions {
  /** start (default): start the run unless it exists, then follow it; attach: follow it only if it exists. */
  mode?: 'start' | 'attach';
  /** Enforced on the target from the moment the supervisor starts (waiting for the target lock counts). */
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL at a timeout (default 2000 ms). */
  killGraceMs?: number;
  /** Remove the run directory once its outcome has been sent (runs nobody will look up again). */
  removeWhenDone?: boolean;
  /** Finished runs to remove first (their outcomes are recorded elsewhere). */
  cleanupRunIds?: string[];
  /** Finished (and orphaned) runs older than this are removed by a start (0: never). Default 7 days. */
  retentionMs?: number;
  /** Longest pause between two polls of the follower (default 500 ms). */
  pollMaxMs?: number;
}

export interface RemoteCommand {
  /** Give this to a POSIX shell (ssh exec, or `bash -c`). Holds no env values (they would show in `ps`). */
  command: string;
  /** Write this to the command's stdin, then close stdin: the env exports, then the script text verbatim. */
  stdin: string;
}

const secondsText = (ms: number): string => (Math.max(1, Math.round(ms)) / 1000).toFixed(3);

/**
 * The start (or attach) and follow command for one run. Throws on an invalid env var name, run id, or a NUL
 * character in an env value.
 */
export function buildRemoteCommand(input: RemoteCommandInput & { script: string } & RunCommandOptions): RemoteCommand {
  const { workdir, env, runId, script } = input;
  if (workdir === '') throw new Error('workdir must not be empty');
  const dir = runDir(runId);
  let exports = '';
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${JSON.stringify(name)}`);
    exports += `export ${name}=${shellQuote(value)}\n`;
  }
  const cleanup = (input.cleanupRunIds ?? []).filter((id) => id !== runId);
  for (const id of cleanup) assertRunId(id);
  const timeoutMs =
    Number.isFinite(input.timeoutMs) && (input.timeoutMs ?? 0) > 0 ? Math.ceil(input.timeoutMs ?? 0) : 0;
  const steps = Math.max(1, Math.ceil((input.killGraceMs ?? 2000) / 100));
  const retentionMin = Math.ceil((input.retentionMs ?? DEFAULT_RUN_RETENTION_MS) / 60_000);
  const envBytes = Buffer.byteLength(exports, 'utf8');
  const retentionMs = input.retentionMs ?? DEFAULT_RUN_RETENTION_MS;
  const sweepMs = Math.max(0, Math.min(SWEEP_EVERY_MS, Math.ceil(retentionMs)));
  const ctl = [
    `_r_id=${shellQuote(runId)}; _r_mode=${input.mode === 'attach' ? 'attach' : 'start'}; _r_envbytes=${envBytes}`,
    `_r_tmo=${timeoutMs}; _r_steps=${steps}; _r_rm=${input.removeWhenDone ? 1 : 0}; _r_keepmin=${retentionMin}`,
    `_r_clean=${shellQuote(cleanup.join(' '))}; _r_napmax=${secondsText(input.pollMaxMs ?? 500)}`,
    `_r_sbytes=${script.includes('\0') ? -1 : Buffer.byteLength(script, 'utf8')}; _r_sweepms=${sweepMs}`,
    'umask 077',
    `_r_root=${RUNS_DIR}; _r_d=${dir}`,
    NOW_FN,
    PUBLISH_FN,
    SET_OUTPUT_SHELL_FUNCTION,
    MASK_OUTPUT_SHELL_FUNCTION,
    // (a pooled channel's loop enabled them when it started: the control script runs in its subshell)
    BUILTINS_FN,
    `[ "\${${POOL_FLAG}:-}" = 1 ] || _r_builtins`,
    'if [ "$_r_mode" = start ] && [ ! -d "$_r_d" ]; then',
    '  _r_tmp=',
    // Housekeeping: runs whose outcomes the workflow recorded, then whatever is older than the retention.
    // (one rm for all of them; run ids hold no blanks or glob characters: assertRunId)
    '  _r_rmx=; for _r_x in $_r_clean; do [ -e "$_r_root/$_r_x/status" ] && _r_rmx="$_r_rmx $_r_root/$_r_x"; done',
    '  [ -z "$_r_rmx" ] || rm -rf -- $_r_rmx',
    // The retention sweep costs a `find` per run directory: it runs at most once per _r_sweepms per workdir (the
    // time of the last sweep is kept in .rollout/swept), and only when the runs directory holds any run at all.
    '  if [ "$_r_keepmin" -gt 0 ]; then',
    '    _r_n=0; for _r_x in "$_r_root"/*; do [ -e "$_r_x" ] && { _r_n=1; break; }; done',
    '    _r_stamp; _r_sw=0; { read -r _r_sw < .rollout/swept; } 2>/dev/null; case $_r_sw in ""|*[!0-9]*) _r_sw=0;; esac',
    '    if [ $_r_n = 1 ] && [ $(( _r_t - _r_sw )) -ge "$_r_sweepms" ]; then',
    '      printf %s "$_r_t" > .rollout/swept',
    '      find "$_r_root" -maxdepth 1 -name "*.cancelled" -mmin +"$_r_keepmin" -exec rm -f {} + 2>/dev/null',
    '      for _r_x in "$_r_root"/*/ "$_r_root"/.tmp-*/; do',
    '        _r_x=${_r_x%/}; [ -d "$_r_x" ] && [ "$_r_x" != "$_r_tmp" ] || continue',
    '        if [ -e "$_r_x/status" ]; then',
    '          [ -n "$(find "$_r_x/status" -mmin +"$_r_keepmin" 2>/dev/null)" ] && rm -rf -- "$_r_x"',
    '        elif [ -n "$(find "$_r_x" -maxdepth 0 -mmin +"$_r_keepmin" 2>/dev/null)" ] && flock -n "$_r_x/alive" true 2>/dev/null; then',
    '          rm -rf -- "$_r_x"',
    '        fi',
    '      done',
    '    fi',
    '  fi',
    // stdin: exactly envBytes bytes of exports (read byte-exact into a variable: never on disk), then the script.
    '  _r_env=',
    '  if [ "$_r_envbytes" -gt 0 ]; then LC_ALL=C IFS= read -r -N "$_r_envbytes" _r_env; fi',
    // The script: _r_sbytes bytes read with `read -N` into a variable (no process; a short read means stdin was
    // cut: nothing is claimed), written after the claim with printf. A script holding a NUL byte (read drops
    // those) goes to a temp directory with `cat` to EOF first, and is moved into the run once it is claimed.
    '  if [ "$_r_sbytes" -ge 0 ]; then',
    '    _r_s=; if [ "$_r_sbytes" -gt 0 ]; then LC_ALL=C IFS= read -r -N "$_r_sbytes" _r_s || { printf \'rollout-run X the script arrived incomplete\\n\'; exit 0; }; fi',
    '  else',
    '    _r_tmp=$_r_root/.tmp-$_r_id-$BASHPID',
    // (a few tries: a run that removes its own directory also removes the parents it leaves empty)
    '    _r_i=0; until mkdir -p "$_r_tmp" 2>/dev/null; do _r_i=$((_r_i+1)); [ $_r_i -lt 5 ] || break; done',
    `    [ -d "$_r_tmp" ] || { printf 'rollout-run X cannot create %s in %s\\n' "$_r_tmp" "$(pwd)"; exit 0; }`,
    `    cat > "$_r_tmp/script" || { rm -rf -- "$_r_tmp"; printf 'rollout-run X cannot store the script\\n'; exit 0; }`,
    '  fi',
    // The CLAIM: one mkdir; the runs directory is made (and the claim tried again) only when it is missing.
    '  _r_c=0; _r_i=0',
    '  while :; do',
    '    if mkdir "$_r_d" 2>/dev/null; then _r_c=1; break; fi',
    '    [ -e "$_r_d" ] || [ $_r_i -ge 5 ] && break',
    '    mkdir -p -- "$_r_root" 2>/dev/null; _r_i=$((_r_i+1))',
    '  done',
    '  if [ $_r_c = 1 ]; then',
    // Claimed but the script cannot be stored (disk full): nothing will run, and the outcome says so at once.
    '    _r_unl() { mkdir "$_r_d/launched" 2>/dev/null && _r_publish unlaunched ""; [ -z "$_r_tmp" ] || rm -rf -- "$_r_tmp"; printf \'rollout-run X cannot store the script\\n\'; exit 0; }',
    '    if [ -z "$_r_tmp" ]; then { printf %s "$_r_s" > "$_r_d/script"; } 2>/dev/null || _r_unl; _r_s=',
    '    else mv -- "$_r_tmp/script" "$_r_d/script" || _r_unl; rmdir -- "$_r_tmp"; fi',
    // Cancelled before it was claimed (the kill command left a tombstone): it never starts.
    '    if [ -e "$_r_root/$_r_id.cancelled" ]; then : > "$_r_d/cancel"; rm -f -- "$_r_root/$_r_id.cancelled"; fi',
    '    : > "$_r_d/out"; : > "$_r_d/err"; mkfifo -- "$_r_d/wake" 2>/dev/null',
    // The supervisor: a subshell, made a process group of its own by job control (`set -m`, on for this fork
    // only; a subshell never has job control itself, so what it starts stays in its group). No controlling
    // terminal (an exec channel has none), so a lost connection sends it no SIGHUP. The exports are evaluated in
    // it, after its arguments were taken (an exported `_r_d` cannot change them), and reach the script through
    // the environment only; the control script's own variables are not exported.
    `    _r_supervise() {\n${SUPERVISOR}\n}`,
    '    _r_launch() { set -- "$_r_d" "$_r_tmo" "$_r_steps"; eval "$_r_env"; _r_env=; export -f set_output mask_output; _r_supervise "$@"; exit 0; }',
    '    set -m; ( _r_launch ) </dev/null >>"$_r_d/out" 2>>"$_r_d/err" & set +m',
    '    _r_env=',
    // (the FIFO is opened after the launch: neither the supervisor nor the script inherits it)
    '    if [ -p "$_r_d/wake" ] && exec 7<>"$_r_d/wake"; then _r_lnap() { read -r -t 0.05 -u 7 _; }; else _r_lnap() { sleep 0.05; }; fi',
    '    _r_i=0; while [ ! -e "$_r_d/launched" ] && [ $_r_i -lt 200 ]; do _r_lnap; _r_i=$((_r_i+1)); done',
    "    printf 'rollout-run C\\n'",
    '  else',
    '    [ -z "$_r_tmp" ] || rm -rf -- "$_r_tmp"',
    `    [ -d "$_r_d" ] || { printf 'rollout-run X cannot create %s in %s\\n' "$_r_d" "$(pwd)"; exit 0; }`,
    "    printf 'rollout-run A\\n'",
    '  fi',
    'elif [ -d "$_r_d" ]; then',
    "  printf 'rollout-run A\\n'",
    'else',
    "  printf 'rollout-run G\\n'; exit 0",
    'fi',
    // ---- follow ----
    `_r_emit() { _r_new=$3; while [ "$4" -gt "$_r_new" ]; do _r_c=$(( $4 - _r_new )); [ $_r_c -gt 1048576 ] && _r_c=1048576; printf '%s %d\\n' "$2" "$_r_c"; tail -c +$(( _r_new + 1 )) "$1" | head -c "$_r_c"; _r_new=$(( _r_new + _r_c )); done; }`,
    '_r_o=0; _r_e=0; _r_k=0; _r_step=0; _r_stamp; _r_t1=$_r_t',
    // A sleep without a process per poll: read with a timeout from the run's wake FIFO (a publish ends the nap at
    // once), or from a pipe nobody writes to.
    // (a FIFO removed meanwhile by another follower would be re-created as a plain file: then the quiet pipe)
    'if { [ -p "$_r_d/wake" ] && exec 7<>"$_r_d/wake" && [ -p /dev/fd/7 ]; } 2>/dev/null || exec 7<> <(:); then _r_nap() { read -r -t "$1" -u 7 _; }; else _r_nap() { sleep "$1"; }; fi',
    // Both sizes with one process (GNU stat), else wc.
    '_r_sizes() { if [ ! -s "$_r_d/out" ] && [ ! -s "$_r_d/err" ]; then _r_so=0; _r_se=0; return; fi; set -- $(stat -c %s "$_r_d/out" "$_r_d/err" 2>/dev/null) && [ $# = 2 ] || set -- $(wc -c < "$_r_d/out" 2>/dev/null) $(wc -c < "$_r_d/err" 2>/dev/null); _r_so=${1:-0}; _r_se=${2:-0}; }',
    'while :; do',
    '  _r_fin=0; [ -e "$_r_d/status" ] && _r_fin=1',
    '  _r_sizes',
    '  _r_emit "$_r_d/out" O "$_r_o" "$(( ${_r_so:-0} + 0 ))"; _r_got=$(( _r_new - _r_o )); _r_o=$_r_new',
    '  _r_emit "$_r_d/err" E "$_r_e" "$(( ${_r_se:-0} + 0 ))"; _r_got=$(( _r_got + _r_new - _r_e )); _r_e=$_r_new',
    '  if [ $_r_fin = 1 ]; then',
    '    _r_line=; { read -r _r_line < "$_r_d/status"; } 2>/dev/null',
    // A run nobody will look up again is removed BEFORE its outcome is sent: when the caller has it, it is gone.
    '    if [ "$_r_rm" = 1 ]; then rm -rf -- "$_r_d"; rmdir .rollout/runs .rollout 2>/dev/null; fi',
    `    printf 'S %s\\n' "$_r_line"; exit 0`,
    '  fi',
    '  _r_k=$((_r_k + 1))',
    '  if [ -d "$_r_d/launched" ]; then',
    // The supervisor holds `alive` from before `launched` until it exits: free and still no status = it died.
    '    if [ $((_r_k % 4)) = 0 ] && flock -n "$_r_d/alive" true 2>/dev/null && [ ! -e "$_r_d/status" ]; then',
    '      _r_st=; { read -r _r_st < "$_r_d/started"; } 2>/dev/null',
    `      printf 'S reason=lost exit= started=%s ended=\\n' "$_r_st"; break`,
    '    fi',
    `  elif _r_stamp; [ $(( _r_t - _r_t1 )) -ge ${UNLAUNCHED_AFTER_MS} ]; then`,
    // Claimed, but no supervisor ever took it: whoever makes `launched` first decides (here: it never starts).
    '    mkdir "$_r_d/launched" 2>/dev/null && _r_publish unlaunched ""',
    '  fi',
    "  printf 'P\\n'",
    '  if [ $_r_got -gt 0 ]; then _r_step=0; elif [ $_r_step -lt 4 ]; then _r_step=$((_r_step + 1)); fi',
    '  case $_r_step in 0) _r_pause=0.05;; 1) _r_pause=0.1;; 2) _r_pause=0.2;; 3) _r_pause=0.3;; *) _r_pause=$_r_napmax;; esac',
    '  _r_nap $_r_pause',
    'done',
    'exit 0',
  ].join('\n');
  // `--norc`: bash sources ~/.bashrc when its stdin is a socket (as with Node's stdio pipes) and SHLVL < 2,
  // taking it for an rsh/ssh session; the wrapper and the script must not depend on an interactive setup.
  // (`mkdir -p` only when the workdir is not there yet: one process less per run)
  // On a pooled channel (POOL_LOOP: already bash --norc, the command in a subshell of its own) the control script
  // runs in that subshell; elsewhere (a fresh channel: the login shell, maybe not bash) in a bash of its own.
  // (`mkdir -p` fails when another run creates the workdir at the same moment as a builtin, not as coreutils: the
  // `-d` test takes that race for what it is, and a second `mkdir` says why it really failed)
  const w = shellPath(workdir);
  const command =
    `_r_ctl=${shellQuote(ctl)}; ` +
    `{ cd -- ${w} 2>/dev/null || { { mkdir -p -- ${w} 2>/dev/null || [ -d ${w} ] || mkdir -p -- ${w}; } && cd -- ${w}; }; } && ` +
    `if [ "\${${POOL_FLAG}:-}" = 1 ]; then eval "$_r_ctl"; else exec bash --norc -c "$_r_ctl" rollout-ctl; fi`;
  return { command, stdin: exports + script };
}

/**
 * The command that stops a run (cancel): marks it cancelled (so a run still waiting to start never starts),
 * publishes `cancelled` unless the run already has an outcome, kills its supervisor, then sends SIGTERM to the
 * script's whole process group and SIGKILL to whatever is left after `graceMs`. Exits 0 in every case.
 */
export function buildKillCommand(workdir: string, runId: string, graceMs = 2000): string {
  const dir = runDir(runId);
  const steps = Math.max(1, Math.ceil(graceMs / 100));
  const script = [
    'umask 077',
    `mkdir -p -- ${shellPath(workdir)} 2>/dev/null; cd -- ${shellPath(workdir)} 2>/dev/null || exit 0`,
    `_r_d=${dir}; _r_tomb=${dir}.cancelled; _r_steps=${steps}`,
    // Not claimed (yet): a tombstone makes the start command cancel it as soon as it claims it. Then look again, in
    // case the claim happened meanwhile (the start command looks for the tombstone after claiming).
    'if [ ! -d "$_r_d" ]; then',
    `  mkdir -p ${RUNS_DIR} 2>/dev/null && : > "$_r_tomb"`,
    '  [ -d "$_r_d" ] || exit 0',
    'fi',
    NOW_FN,
    PUBLISH_FN,
    ALIVE_FN,
    KILL_GROUP_FN,
    ': > "$_r_d/cancel"',
    '[ -e "$_r_d/status" ] && { rm -f "$_r_tomb"; exit 0; }',
    // Read who to kill BEFORE publishing: once the outcome is out, a follower may remove the run directory.
    '_r_sup=$(cat "$_r_d/supervisor" 2>/dev/null); _r_pg=$(cat "$_r_d/pgid" 2>/dev/null)',
    '_r_publish cancelled ""',
    'case "$_r_sup" in ""|*[!0-9]*) ;; *) kill -KILL -- "-$_r_sup" 2>/dev/null;; esac',
    // The script's launcher writes pgid before it looks for `cancel`: read again in case it started meanwhile.
    '[ -n "$_r_pg" ] || _r_pg=$(cat "$_r_d/pgid" 2>/dev/null)',
    'case "$_r_pg" in ""|*[!0-9]*) ;; *) _r_killgroup "$_r_pg";; esac',
    'rm -f "$_r_d/script" "$_r_tomb"',
    'exit 0',
  ].join('\n');
  return `bash --norc -c ${shellQuote(script)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reusable exec channels (the SSH transport's channel pool).
//
// sshd runs every exec channel's command through the login shell, and a login bash sources ~/.bashrc for an SSH
// session (pyenv/nvm/conda set-up there costs 100+ ms of CPU per channel). A POOLED channel pays that once: it runs
// POOL_LOOP, which reads one request at a time from stdin, runs it exactly as a fresh channel would run it, and
// then prints an end marker on stdout and on stderr (each stream keeps its order; the two streams do not keep
// theirs against each other, hence both). A request (poolRequest) is one header line
// `<marker> <command bytes> <stdin bytes>` followed by the command and its stdin, byte-exact (read with `read -N`
// under LC_ALL=C: no over-read, so the next request stays in the channel). The command gets the stdin on a pipe of
// its own (EOF after the last byte: a script never sees the next request) and runs in a subshell (`cd`, `exec` and
// variables do not touch the loop). The marker is random per request and travels only on stdin, so a script cannot
// print it by accident or on purpose (it is on no command line and in no environment).

const POOL_LOOP = [
  `${POOL_FLAG}=1`,
  BUILTINS_FN,
  '_r_builtins; unset -f _r_builtins; unset _r_ifs _r_ld _r_b',
  '_p_num() { case $1 in ""|*[!0-9]*) return 1;; esac; }',
  'while IFS=" " read -r _p_m _p_cn _p_in _p_x; do',
  '  case $_p_m in rollout-end-*) ;; *) exit 2;; esac',
  '  _p_num "$_p_cn" && _p_num "$_p_in" || exit 2',
  '  _p_c=; if [ "$_p_cn" -gt 0 ]; then LC_ALL=C IFS= read -r -N "$_p_cn" _p_c || exit 2; fi',
  '  _p_s=; if [ "$_p_in" -gt 0 ]; then LC_ALL=C IFS= read -r -N "$_p_in" _p_s || exit 2; fi',
  '  printf %s "$_p_s" | ( _p_s=; _p_x=$_p_c; _p_c=; eval "$_p_x" )',
  '  _p_c=; _p_s=',
  '  printf \'%s\\n\' "$_p_m"; printf \'%s\\n\' "$_p_m" >&2',
  'done',
  'exit 0',
].join('\n');

/** The command of a pooled exec channel (see above). */
export const POOL_LOOP_COMMAND = `exec bash --norc -c ${shellQuote(POOL_LOOP)} rollout-pool`;

/** Largest stdin sent through a pooled channel (a larger one gets a fresh channel). */
export const POOL_MAX_STDIN = 16 * 1024 * 1024;

/** A fresh, unguessable end marker for one request. */
export function newPoolMarker(): string {
  return `rollout-end-${randomBytes(16).toString('hex')}`;
}

/**
 * The bytes to write to a pooled channel for one request, or undefined when it cannot go through the pool (a NUL
 * byte, which bash variables cannot hold, or a stdin above POOL_MAX_STDIN): then use a fresh channel.
 */
export function poolRequest(marker: string, command: string, stdin: string): Buffer | undefined {
  if (!/^rollout-end-[0-9a-f]{8,}$/.test(marker)) throw new Error(`invalid pool marker: ${marker}`);
  if (command.includes('\0') || stdin.includes('\0')) return undefined;
  const c = Buffer.from(command, 'utf8');
  const i = Buffer.from(stdin, 'utf8');
  if (i.length > POOL_MAX_STDIN) return undefined;
  return Buffer.concat([Buffer.from(`${marker} ${c.length} ${i.length}\n`, 'utf8'), c, i]);
}

/**
 * Finds a request's end marker line in one output stream of a pooled channel: passes on everything before it
 * (holding back only a tail that could be the start of the marker), then calls onEnd with what followed it on the
 * same chunk (nothing, on a clean channel).
 */
export class MarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  private readonly marker: Buffer;
  ended = false;

  constructor(
    marker: string,
    private readonly onData: (chunk: Buffer) => void,
    private readonly onEnd: (rest: Buffer) => void,
  ) {
    this.marker = Buffer.from(`${marker}\n`, 'utf8');
  }

  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length > 0) this.onEnd(chunk);
      return;
    }
    const buf = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.ended = true;
      this.held = Buffer.alloc(0);
      if (at > 0) this.onData(buf.subarray(0, at));
      this.onEnd(buf.subarray(at + this.marker.length));
      return;
    }
    let keep = Math.min(this.marker.length - 1, buf.length);
    while (keep > 0 && !buf.subarray(buf.length - keep).equals(this.marker.subarray(0, keep))) keep--;
    if (buf.length > keep) this.onData(buf.subarray(0, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Following a run: output lines, tails, output variables, cancel, detach.

/** Longest line kept whole; a longer run of characters without a newline is cut into lines of this size. */
export const MAX_LINE = 64 * 1024;

/** Splits streamed output into lines, keeps bounded tails and collects output variables. */
export class OutputCollector {
  readonly outputs: Record<string, string> = {};
  private readonly tails = { stdout: '', stderr: '' };
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(private readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void) {}

  push(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk);
    this.take(stream, text);
  }

  /** Flushes decoders and emits a last line without a newline. Idempotent. */
  finish(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.take(stream, this.decoders[stream].end());
      if (this.partial[stream] !== '') {
        const line = this.partial[stream];
        this.partial[stream] = '';
        this.emit(stream, line);
      }
    }
  }

  get stdoutTail(): string {
    return this.tails.stdout.slice(-TAIL_LIMIT);
  }

  get stderrTail(): string {
    return this.tails.stderr.slice(-TAIL_LIMIT);
  }

  private take(stream: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    let tail = this.tails[stream] + text;
    if (tail.length > 2 * TAIL_LIMIT) tail = tail.slice(-TAIL_LIMIT);
    this.tails[stream] = tail;
    let buf = this.partial[stream] + text;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      this.emit(stream, buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    while (buf.length > MAX_LINE) {
      this.emit(stream, buf.slice(0, MAX_LINE));
      buf = buf.slice(MAX_LINE);
    }
    this.partial[stream] = buf;
  }

  private emit(stream: 'stdout' | 'stderr', rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const out = parseOutputLine(line);
    if (out) this.outputs[out.name] = out.value;
    if (this.onLine) {
      try {
        this.onLine(line, stream);
      } catch {
        // a failing observer must not break the run
      }
    }
  }
}

/** What a transport provides to the driver: a command with stdin on the target, and short commands. */
export interface CommandIO {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The command ended and its output is closed, or its channel/process failed (err). Called at most once. */
  closed(err?: Error): void;
}

export interface CommandHandle {
  /**
   * Release the channel / streams (called once, when the call is settled). `reusable`: the command reported its
   * outcome (or that it could not set the run up) and ends by itself, nothing was killed, detached or lost: a pooled
   * channel may serve another request once its end marker is in. Otherwise the channel is closed.
   */
  dispose(reusable?: boolean): void;
  /** Nothing was heard for too long: the connection is presumed dead (forget it, so the next call reconnects). */
  broken(): void;
}

export interface TargetShell {
  /** `who@where`, for messages. */
  describe: string;
  /** Starts `command`, writes `stdin` and closes it. Rejects with a TransportError when it cannot be sent. */
  start(command: string, stdin: string, io: CommandIO): Promise<CommandHandle>;
  /** Runs a short command (the kill command) to its end. Never rejects. */
  runQuick(command: string): Promise<void>;
}

export interface FollowOptions {
  /** Grace between SIGTERM and SIGKILL when a run is stopped. */
  killGraceMs: number;
  /** Nothing heard from the target for this long (the follower pings every poll): the connection is lost. */
  staleMs: number;
  /** See RunCommandOptions.retentionMs. */
  retentionMs?: number;
  pollMaxMs?: number;
}

/** The result of a run that was never started because its signal was already aborted. */
export function abortedBeforeStart(): ScriptResult {
  return {
    exitCode: null,
    timedOut: false,
    aborted: true,
    stdoutTail: '',
    stderrTail: '',
    outputs: {},
    durationMs: 0,
    runId: '',
    outcome: 'cancelled',
    attached: false,
  };
}

const PRELUDE = 'rollout-run ';

/** Splits the follower's stdout into frames (see the protocol at the top). Noise before the first frame is skipped. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private data: { tag: 'O' | 'E'; left: number } | undefined;
  private started = false;

  constructor(private readonly onFrame: (tag: string, arg: string, data?: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length > 0 ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.data) {
        const take = Math.min(this.data.left, this.buf.length);
        if (take === 0) return;
        const tag = this.data.tag;
        const part = this.buf.subarray(0, take);
        this.buf = this.buf.subarray(take);
        this.data.left -= take;
        if (this.data.left === 0) this.data = undefined;
        this.onFrame(tag, '', part);
        continue;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) {
        if (this.buf.length > 64 * 1024) throw new Error('protocol error: frame header too long');
        return;
      }
      const line = this.buf.subarray(0, nl).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      if (!this.started) {
        // The login shell may print things (a chatty ~/.bashrc) before the command runs.
        if (!line.startsWith(PRELUDE)) continue;
        this.started = true;
        const rest = line.slice(PRELUDE.length);
        this.onFrame(rest.slice(0, 1), rest.slice(2));
        continue;
      }
      const tag = line.slice(0, 1);
      const arg = line.slice(2);
      if (tag === 'O' || tag === 'E') {
        const n = Number(arg);
        if (!Number.isInteger(n) || n < 0)
          throw new Error(`protocol error: bad frame ${JSON.stringify(line.slice(0, 40))}`);
        if (n > 0) this.data = { tag, left: n };
        continue;
      }
      this.onFrame(tag, arg);
    }
  }
}

/** Parses a status line (`reason=… exit=… started=… ended=…`). */
export function parseStatus(line: string): { reason: string; exit?: number; started?: number; ended?: number } {
  const f: Record<string, string> = {};
  for (const part of line.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) f[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const num = (v: string | undefined): number | undefined =>
    v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  return { reason: f.reason ?? 'lost', exit: num(f.exit), started: num(f.started), ended: num(f.ended) };
}

const OUTCOMES: ReadonlySet<string> = new Set(['exited', 'timeout', 'cancelled', 'lost', 'unlaunched']);

/**
 * Starts (or attaches to) one run through `shell` and follows it to its recorded outcome: streams output into an
 * OutputCollector, forwards req.signal as the kill command, and resolves with the outcome read from the target.
 * Rejects with a TransportError when the command cannot be sent or the connection is lost while following (the run
 * keeps going on the target: attach again with the same run id), and with DetachedError on req.detachSignal.
 */
export function followRun(shell: TargetShell, req: ScriptRequest, opts: FollowOptions): Promise<ScriptResult> {
  if (req.signal?.aborted) return Promise.resolve(abortedBeforeStart());
  const ephemeral = req.runId === undefined;
  const runId = req.runId ?? newRunId();
  if (req.detachSignal?.aborted) {
    return Promise.reject(new DetachedError(`${shell.describe}: not following run ${runId}: detached`, runId));
  }
  const { command, stdin } = buildRemoteCommand({
    workdir: req.target.workdir,
    env: req.env,
    runId,
    script: req.script,
    mode: req.attachOnly ? 'attach' : 'start',
    timeoutMs: req.timeoutMs,
    killGraceMs: opts.killGraceMs,
    removeWhenDone: ephemeral,
    ...(req.cleanupRunIds ? { cleanupRunIds: req.cleanupRunIds } : {}),
    ...(opts.retentionMs !== undefined ? { retentionMs: opts.retentionMs } : {}),
    ...(opts.pollMaxMs !== undefined ? { pollMaxMs: opts.pollMaxMs } : {}),
  });
  const t0 = Date.now();
  const collector = new OutputCollector(req.onLine);

  return new Promise<ScriptResult>((resolve, reject) => {
    let settled = false;
    let handle: CommandHandle | undefined;
    let claim: 'started' | 'attached' | undefined;
    let killDone: Promise<void> | undefined;
    let statusSeen = false;
    /** Settled on the command's own last word (status, gone, set-up error) with nothing killed: see dispose. */
    let reusable = false;
    let diagnostics = '';
    let lastHeard = Date.now();
    let staleTimer: NodeJS.Timeout | undefined;
    // Armed once the command is on its way (connecting has its own timeout).
    const watchStale = (): void => {
      lastHeard = Date.now();
      staleTimer = setInterval(
        () => {
          if (settled || Date.now() - lastHeard <= opts.staleMs) return;
          try {
            handle?.broken();
          } catch {
            // ignore
          }
          lost(`(nothing heard for ${Math.round((Date.now() - lastHeard) / 1000)} s)`);
        },
        Math.max(50, Math.min(1000, opts.staleMs / 4)),
      );
      staleTimer.unref?.();
    };

    const cleanup = (): void => {
      settled = true;
      if (staleTimer) clearInterval(staleTimer);
      req.signal?.removeEventListener('abort', onAbort);
      req.detachSignal?.removeEventListener('abort', onDetach);
      try {
        handle?.dispose(reusable);
      } catch {
        // ignore
      }
    };
    const settle = (fn: () => void): void => {
      if (settled) return;
      cleanup();
      collector.finish();
      fn();
    };
    const result = (outcome: RunOutcome, exitCode: number | null, started?: number, ended?: number): ScriptResult => ({
      exitCode,
      timedOut: outcome === 'timeout',
      aborted: outcome === 'cancelled',
      stdoutTail: collector.stdoutTail,
      stderrTail: collector.stderrTail,
      outputs: { ...collector.outputs },
      durationMs: started !== undefined && ended !== undefined ? Math.max(0, ended - started) : Date.now() - t0,
      runId,
      outcome,
      attached: claim === 'attached',
      ...(started !== undefined ? { startedAtMs: started } : {}),
      ...(ended !== undefined ? { endedAtMs: ended } : {}),
    });
    const finish = (line: string): void => {
      const st = parseStatus(line);
      const outcome = (OUTCOMES.has(st.reason) ? st.reason : 'lost') as RunOutcome;
      const exitCode = outcome === 'exited' ? (st.exit ?? null) : null;
      if (!settled) reusable = !killDone;
      settle(() => resolve(result(outcome, exitCode, st.started, st.ended)));
    };
    const fail = (err: Error): void => settle(() => reject(err));
    function lost(why: string): void {
      fail(
        new TransportError(
          'unreachable',
          claim
            ? `${shell.describe}: connection lost while following run ${runId} ${why} (the script keeps running on the target; its outcome is read when the target is back)`
            : `${shell.describe}: connection lost while starting run ${runId} ${why} (it may or may not have started)`,
          true,
          claim ? 'follow' : 'start',
        ),
      );
    }
    const startKill = (): void => {
      if (killDone || settled) return;
      // Bounded (a dead connection must not hang the run), generously: on a loaded target the kill takes a while.
      const bound = new Promise<void>((r) => setTimeout(r, opts.killGraceMs + 15_000).unref());
      killDone = Promise.race([shell.runQuick(buildKillCommand(req.target.workdir, runId, opts.killGraceMs)), bound]);
    };
    function onAbort(): void {
      // At once, even before the target has said the run exists: a run not yet claimed gets a tombstone.
      startKill();
    }
    function onDetach(): void {
      fail(
        new DetachedError(
          `${shell.describe}: stopped following run ${runId} (the script keeps running on the target)`,
          runId,
        ),
      );
    }

    const parser = new FrameParser((tag, arg, data) => {
      if (settled) return;
      lastHeard = Date.now();
      try {
        req.onContact?.();
      } catch {
        // an observer must not break the run
      }
      switch (tag) {
        case 'C':
        case 'A':
          claim = tag === 'C' ? 'started' : 'attached';
          try {
            req.onClaim?.(claim);
          } catch {
            // ignore
          }
          return;
        case 'G':
          reusable = !killDone;
          return settle(() => resolve(result('gone', null)));
        case 'X':
          // Said before anything was started.
          reusable = !killDone;
          return fail(
            new TransportError('other', `${shell.describe}: cannot set up run ${runId}: ${arg}`, false, 'connect'),
          );
        case 'O':
          if (data) collector.push('stdout', data);
          return;
        case 'E':
          if (data) collector.push('stderr', data);
          return;
        case 'S': {
          statusSeen = true;
          // After a kill, report once the kill command is done (the group is gone), whatever the outcome says.
          if (killDone) void killDone.then(() => finish(arg));
          else finish(arg);
          return;
        }
        default:
          return; // 'P' (ping) and anything newer
      }
    });

    const io: CommandIO = {
      stdout: (c) => {
        if (settled) return;
        try {
          parser.push(c);
        } catch (e) {
          fail(
            new TransportError('other', `${shell.describe}: ${(e as Error).message}`, true, claim ? 'follow' : 'start'),
          );
        }
      },
      stderr: (c) => {
        // The command's own diagnostics (the script's stderr arrives framed on stdout).
        if (settled) return;
        lastHeard = Date.now();
        if (diagnostics.length < 2000) diagnostics += c.toString('utf8');
      },
      closed: (err) => {
        if (settled || statusSeen) return;
        if (!claim && !err && diagnostics.trim() !== '') {
          // The command failed before it could claim anything (e.g. the workdir cannot be created).
          return fail(
            new TransportError(
              'other',
              `${shell.describe}: cannot start run ${runId}: ${diagnostics.trim().slice(0, 500)}`,
              false,
              'connect',
            ),
          );
        }
        lost(err ? `(${err.message})` : '');
      },
    };

    req.signal?.addEventListener('abort', onAbort, { once: true });
    req.detachSignal?.addEventListener('abort', onDetach, { once: true });
    shell.start(command, stdin, io).then(
      (h) => {
        if (settled) {
          try {
            h.dispose();
          } catch {
            // ignore
          }
          return;
        }
        handle = h;
        watchStale();
      },
      (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
    );
  });
}
