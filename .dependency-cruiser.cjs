/**
 * The layering DESIGN.md draws, enforced (`npm run lint` → scripts/depcruise.mjs, which runs this
 * on src/ transpiled by esbuild, so type-only imports — gone at run time — are no edges, and
 * dynamic import() is one like any other):
 *   cli, daemon, web → core → capabilities (sandbox > bridge > services > gateway > auth, images,
 *   credentials, model, doctor) → workspace → engine, config, agents → errors, trace, socket.
 */
const UPPER = '^src/(cli|daemon|web)/';
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Folders under src/ form no cycle (a folder-level cycle hides layering bugs).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { path: '^src/[^/]+$', circular: true },
    },
    {
      name: 'base-imports-nothing-above',
      comment: 'engine, config and agents import only each other and the leaf modules.',
      severity: 'error',
      from: { path: '^src/(engine|config|agents)/' },
      to: { path: '^src/', pathNot: '^src/(engine|config|agents)/|^src/(errors|trace|socket)\\.[jt]s$' },
    },
    {
      name: 'edges-through-core',
      comment: 'cli, daemon and web reach the rest of corral only through src/core (and errors).',
      severity: 'error',
      from: { path: UPPER },
      to: { path: '^src/', pathNot: `${UPPER}|^src/core/|^src/errors\\.[jt]s$` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
