// Build sdgen's Mermaid parser bundle: `npm ci && npm run build` (or ./build.sh VERSION).
// Output: ../sdgen/_mermaid/mermaid-parse.js, one IIFE that defines globalThis.sdgenMermaid,
// and ../sdgen/_mermaid/mermaid.min.js, Mermaid's own browser build of the same version, which
// `sdgen site` serves from the site itself (no CDN), and ../sdgen/_site/iframe-worker-shim.js.
import { build } from "esbuild";
import { copyFileSync, readFileSync } from "node:fs";

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
  outfile: "../sdgen/_mermaid/mermaid-parse.js",
  logLevel: "info",
});
copyFileSync("node_modules/mermaid/dist/mermaid.min.js", "../sdgen/_mermaid/mermaid.min.js");
// mkdocs-material's search from a file share runs its worker in an iframe; this is the shim it
// would otherwise fetch from unpkg.com.
copyFileSync("node_modules/iframe-worker/shim/index.js", "../sdgen/_site/iframe-worker-shim.js");
console.log(`bundled mermaid ${mermaidVersion}`);
