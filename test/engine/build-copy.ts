import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/** Sources the compiled engine, eval CLI and their imports need (same relative layout as dist/). */
async function sources(root: string): Promise<string[]> {
  const engine = (await readdir(path.join(root, 'bot/engine'))).filter((f) => f.endsWith('.ts')).map((f) => `bot/engine/${f}`);
  return [...engine, 'bot/classifier.ts', 'bot/language.ts', 'bot/load-intents.ts', 'bot/intent-schema.ts', 'bot/training-data.ts', 'bot/train-classifier.ts', 'scripts/eval.ts'];
}

/**
 * Transpiles the engine (no type check: `tsc --noEmit` does that) into a temporary folder laid out
 * like dist/, with node_modules linked, so tests can run the compiled worker and CLI as production does.
 */
export async function buildCopy(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = process.cwd();
  const dir = await mkdtemp(path.join(tmpdir(), 'engine-dist-'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const file of await sources(root)) {
    const source = await readFile(path.join(root, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, esModuleInterop: true },
      fileName: file,
    });
    const out = path.join(dir, file.replace(/\.ts$/, '.js'));
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
