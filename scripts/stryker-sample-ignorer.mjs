// The `sample` ignorer for sampled mutation runs (scripts/mutation-sample.mjs): Stryker mutates every
// node inside a mutate range, and a range drawn for one node (a block, say) holds the nodes nested in
// it. This ignorer keeps a node only when it was drawn or when it encloses a drawn node (so the walk can
// reach it); everything else inside a range is ignored, and so never run.
import { readFileSync } from 'node:fs';
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

const file = process.env.STRYKER_SAMPLE;
/** Drawn nodes as babel positions (1-based lines, 0-based columns). */
const drawn = file
  ? JSON.parse(readFileSync(file, 'utf8')).sample.map((m) => ({
      start: { line: m.location.start.line + 1, column: m.location.start.column },
      end: { line: m.location.end.line + 1, column: m.location.end.column },
    }))
  : [];

const before = (a, b) => a.line < b.line || (a.line === b.line && a.column <= b.column);
const same = (a, b) => a.line === b.line && a.column === b.column;

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'sample', {
    shouldIgnore(path) {
      const loc = path.node.loc;
      if (!loc || drawn.length === 0) return undefined;
      for (const d of drawn) {
        if (same(d.start, loc.start) && same(d.end, loc.end)) return undefined;
        if (before(loc.start, d.start) && before(d.end, loc.end)) return undefined;
      }
      return 'not drawn in the mutation sample';
    },
  }),
];
