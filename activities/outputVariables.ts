// Output variables: a script sets one by printing a line of the form
//   ##rollout[setOutput name='NAME' value='VALUE']
// (single quotes; a quote inside VALUE is written as \'), or, more simply, by calling the shell helper
//   set_output NAME VALUE
// that every script gets (it prints the line above). The line may appear on stdout; it is still kept in the tail.

const LINE = /^##rollout\[setOutput name='([A-Za-z_][A-Za-z0-9_.-]{0,99})' value='((?:[^'\\]|\\.)*)'\]\s*$/;

export function parseOutputLine(line: string): { name: string; value: string } | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const value = (m[2] ?? '').replace(/\\(.)/g, '$1');
  return { name: m[1] ?? '', value };
}

/** The shell function every script gets, so scripts can write `set_output Name Value`. */
export const SET_OUTPUT_SHELL_FUNCTION = String.raw`set_output() { _v=$(printf '%s' "$2" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"); printf "##rollout[setOutput name='%s' value='%s']\n" "$1" "$_v"; }`;
