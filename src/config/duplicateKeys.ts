// Keys that would be silently lost or dangerous in a parsed config: a key given twice in one mapping (YAML and
// JSON parsers keep the last one), and `__proto__`, which names an object's prototype once parsed.
import YAML from 'yaml';
import { formatPath } from './load';

export function duplicateKeyProblems(doc: YAML.Document): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, at: PropertyKey[]) => {
    if (YAML.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = [...at, key];
        if (key === '__proto__') problems.push(`${formatPath(p)}: "__proto__" is not allowed as a key`);
        else if (seen.has(key))
          problems.push(`${formatPath(p)}: duplicate key (given more than once in the same place)`);
        seen.add(key);
        walk(pair.value, p);
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...at, i]));
    }
  };
  walk(doc.contents, []);
  return problems;
}
