// The one entry point sdgen calls: parse a diagram with Mermaid's own parser and say what it is.
import mermaid from "mermaid";

mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

function lineOf(error) {
  // jison parsers (flowchart, sequence, class, state, er, gantt, C4...): hash.loc.first_line.
  const loc = error && error.hash && error.hash.loc;
  if (loc && typeof loc.first_line === "number") return loc.first_line;
  // langium parsers (pie, gitGraph, architecture, packet, info, radar...): result errors.
  const result = error && error.result;
  const found = result && [...(result.lexerErrors || []), ...(result.parserErrors || [])][0];
  if (found) {
    if (typeof found.line === "number") return found.line;
    if (found.token && typeof found.token.startLine === "number") return found.token.startLine;
  }
  return null;
}

function describe(error) {
  const text = error && error.message ? error.message : String(error);
  return { ok: false, message: text, line: lineOf(error), kind: null };
}

// Checks mermaid.parse misses and mermaid.render catches.
function extraCheck(kind, diagram) {
  if (kind === "gantt") {
    // Dates are only read when the tasks are laid out: a bad date throws here.
    diagram.db.getTasks();
  }
  if (kind === "flowchart-v2" || kind === "flowchart") {
    const db = diagram.db;
    const vertices = db.getVertices();
    for (const subgraph of db.getSubGraphs()) {
      if (subgraph.nodes.includes(subgraph.id)) {
        throw new Error(`a subgraph and a node inside it share the id "${subgraph.id}"`);
      }
      if (vertices.has && vertices.has(subgraph.id) && subgraph.nodes.includes(subgraph.id)) {
        throw new Error(`a subgraph and a node inside it share the id "${subgraph.id}"`);
      }
    }
  }
}

async function check(text) {
  try {
    const parsed = await mermaid.parse(text);
    const kind = parsed && parsed.diagramType ? parsed.diagramType : null;
    try {
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      extraCheck(kind, diagram);
    } catch (error) {
      const verdict = describe(error);
      verdict.kind = kind;
      return verdict;
    }
    return { ok: true, message: "", line: null, kind };
  } catch (error) {
    return describe(error);
  }
}

globalThis.sdgenMermaid = { check, version: MERMAID_VERSION };
