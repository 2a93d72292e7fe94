import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder with package.json), whether running from sources or from dist/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const PATHS = {
  publicDir: () => path.join(projectRoot(), 'server/public'),
  widgetBundle: () => path.join(projectRoot(), 'dist/widget/widget.js'),
  consoleBundle: () => path.join(projectRoot(), 'dist/console/console.js'),
};
