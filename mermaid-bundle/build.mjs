// Build sdgen's Mermaid parser bundle: `npm ci && npm run build` (or ./build.sh VERSION).
// Output: ../sdgen/check/_mermaid/mermaid-parse.js, one IIFE that defines globalThis.sdgenMermaid,
// and ../sdgen/check/_mermaid/mermaid.min.js, Mermaid's own browser build of the same version, which
// `sdgen site` serves from the site itself (no CDN), ../sdgen/site/_assets/iframe-worker-shim.js and
// ../sdgen/site/_assets/katex/.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";

const mermaidVersion = JSON.parse(readFileSync("node_modules/mermaid/package.json", "utf8")).version;

await build({
  entryPoints: ["entry.js"],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  inject: ["polyfills.js"],
  alias: {
    dompurify: "./dompurify-stub.js",
    // Render-only libraries (see render-stub.cjs).
    cytoscape: "./render-stub.cjs",
    "cytoscape-fcose": "./render-stub.cjs",
    "cytoscape-cose-bilkent": "./render-stub.cjs",
    katex: "./render-stub.cjs",
    roughjs: "./render-stub.cjs",
    "@upsetjs/venn.js": "./render-stub.cjs",
  },
  define: { MERMAID_VERSION: JSON.stringify(mermaidVersion) },
  outfile: "../sdgen/check/_mermaid/mermaid-parse.js",
  logLevel: "info",
});
copyFileSync("node_modules/mermaid/dist/mermaid.min.js", "../sdgen/check/_mermaid/mermaid.min.js");
// mkdocs-material's search from a file share runs its worker in an iframe: sdgen serves its own
// shim (sdgen/site/_assets/iframe-worker-shim.js, after iframe-worker's, rewritten to run no
// inline script under the pages' Content-Security-Policy), so the npm one is not copied.
// KaTeX draws the notes' math ($...$, $$...$$) in the site, as Obsidian does; woff2 fonts only
// (every browser that runs the site reads them, so the others are never asked for).
mkdirSync("../sdgen/site/_assets/katex/fonts", { recursive: true });
for (const name of ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js"]) {
  copyFileSync(`node_modules/katex/dist/${name}`, `../sdgen/site/_assets/katex/${name.split("/").pop()}`);
}
for (const font of readdirSync("node_modules/katex/dist/fonts").filter((f) => f.endsWith(".woff2"))) {
  copyFileSync(`node_modules/katex/dist/fonts/${font}`, `../sdgen/site/_assets/katex/fonts/${font}`);
}
console.log(`bundled mermaid ${mermaidVersion}`);
