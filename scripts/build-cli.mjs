#!/usr/bin/env node
// Builds the `rollout` CLI into one ES module, dist/cli/main.mjs (esbuild; dependencies stay in node_modules), so
// the command starts without compiling TypeScript (tsx: ~1.3 s to the first byte of `--help`). Run by npm's
// `prepare` (npm ci / npm install) and at image build. bin/rollout.mjs runs the bundle only while it is fresh: the
// bundle's input list (dist/cli/inputs.json) is checked against the sources' modification times, and any newer
// source (an edit in a dev checkout) runs the sources through tsx instead.
//
// A source file's `import.meta.url` is rewritten to that file's own URL, computed relative to the bundle at run
// time, so that paths made from it (the worker's workflows/index.ts, the examples, the dev console's assets) point
// where they do when the sources run; dist/cli/ must therefore stay two levels below the repository root.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'src/cli/main.ts');
// `--outdir DIR` (tests): somewhere else inside the checkout, so that the dependencies still resolve.
const at = process.argv.indexOf('--outdir');
const outDir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'dist/cli');

if (!existsSync(entry)) {
  // e.g. `npm ci` in an image stage that has only package.json so far: nothing to build yet.
  console.log('build-cli: no src/cli/main.ts here, nothing to build');
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('build-cli: esbuild is not installed, the CLI will run through tsx');
  process.exit(0);
}

const importMetaUrl = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outDir, args.path).split(sep).join('/');
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const result = await esbuild.build({
  entryPoints: { main: entry },
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
  // Each command's dynamic import becomes a chunk of its own, so `--help` loads none of the heavy dependencies.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [importMetaUrl],
});
const inputs = Object.keys(result.metafile.inputs)
  .map((p) => relative(root, join(process.cwd(), p)).split(sep).join('/'))
  .sort();
await writeFile(join(outDir, 'inputs.json'), JSON.stringify(inputs) + '\n');
console.log(`build-cli: ${relative(root, join(outDir, 'main.mjs'))} from ${inputs.length} source files`);
