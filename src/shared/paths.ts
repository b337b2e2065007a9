import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the installed package (holding package.json), from src/ or from dist/ alike. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the comeback package root');
    dir = parent;
  }
  return dir;
}

/** A bundled sample file under `samples/`. */
export function samplePath(...parts: string[]): string {
  return join(packageRoot(), 'samples', ...parts);
}
