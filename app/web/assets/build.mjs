// Bundle the BPMN modeler (admin) and viewer (staff pages) into app/web/static/dist with esbuild.
// Everything comes from node_modules: no CDN at build time or at run time.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, '../static/dist');
mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: {
    modeler: resolve(here, 'modeler.js'), viewer: resolve(here, 'viewer.js'), charts: resolve(here, 'charts.js'),
    // Every staff page: date pickers (flatpickr, vi), working-day helpers, confirmations without inline handlers.
    qlvb: resolve(here, 'qlvb.js'),
  },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020'],
  outdir,
  // bpmn-js ships its icon font; url() references are copied next to the CSS bundles.
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'fonts/[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'linked',
});
writeFileSync(resolve(outdir, '.built'), new Date().toISOString() + '\n');
console.log('QLVB assets written to ' + outdir);
