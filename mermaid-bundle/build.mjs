// Build sdgen's Mermaid parser bundle: `npm ci && npm run build` (or ./build.sh VERSION).
// Output: ../sdgen/_mermaid/mermaid-parse.js, one IIFE that defines globalThis.sdgenMermaid.
import { build } from "esbuild";
import { readFileSync } from "node:fs";

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
console.log(`bundled mermaid ${mermaidVersion}`);
