// Layout and drawing libraries that only mermaid.render uses (graph layouts, math, hand-drawn
// strokes). Parsing never calls them, so the bundle carries this stand-in instead: any property
// of it is itself, calling or constructing it returns itself. About a third less code for V8 to
// hold in memory.
const stub = new Proxy(function stub() {}, {
  get: (target, property) => (property === Symbol.toPrimitive ? () => "" : property === "__esModule" ? false : stub),
  apply: () => stub,
  construct: () => stub,
});
module.exports = stub;
