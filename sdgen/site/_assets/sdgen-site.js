// sdgen's script for the pages of a vault's site.

// Wide characters (emoji, CJK) take two columns in a code block, as they do in the terminal and
// in sdgen's own width check: box-drawing diagrams with emoji in them keep their right edges.
const WIDE = /(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)(?:\u200D(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F?))*\p{Emoji_Modifier}?|[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/gu;

function alignWideCharacters(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const text of texts) {
    const value = text.nodeValue;
    WIDE.lastIndex = 0;
    if (!WIDE.test(value)) continue;
    const pieces = document.createDocumentFragment();
    let cursor = 0;
    for (const match of value.matchAll(WIDE)) {
      pieces.append(value.slice(cursor, match.index));
      const cell = document.createElement("span");
      cell.className = "sdgen-wide";
      cell.textContent = match[0];
      pieces.append(cell);
      cursor = match.index + match[0].length;
    }
    pieces.append(value.slice(cursor));
    text.replaceWith(pieces);
  }
}

// Each diagram drawn with the Mermaid this site serves: the version sdgen's diagram check pins.
// A diagram that does not parse shows Mermaid's own error picture, as in Obsidian.
async function drawDiagrams() {
  const nodes = Array.from(document.querySelectorAll("div.mermaid-diagram"));
  if (nodes.length > 0 && typeof window.mermaid !== "undefined") {
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
    await window.mermaid.run({ nodes, suppressErrors: true });
  }
}

// The notes' math ($...$ and $$...$$, marked by arithmatex), drawn by the KaTeX this site serves.
// A formula KaTeX cannot read is shown as written, in red, as Obsidian shows it.
function drawMath() {
  if (typeof window.renderMathInElement === "undefined") return;
  document.querySelectorAll(".arithmatex").forEach((element) => {
    window.renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  });
}

document.querySelectorAll(".md-typeset pre > code").forEach(alignWideCharacters);
drawMath();
drawDiagrams().finally(() => {
  document.documentElement.dataset.diagrams = "drawn";
});
