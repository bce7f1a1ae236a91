// mkdocs-material's inline scripts (9.8.2, MIT licence), as one file: the pages' Content
// Security Policy runs no inline script. Each <script> that loads this file names its part
// (data-part), at the place in the page where the theme had that script.
(() => {
  const script = document.currentScript;
  const part = script.dataset.part;
  if (part === "base") {
    // partials/javascripts/base.html: where the theme keeps its settings, per site.
    window.__md_scope = new URL(script.dataset.scope, location);
    window.__md_hash = (text) =>
      [...text].reduce((hash, character) => (hash << 5) - hash + character.charCodeAt(0), 0);
    window.__md_get = (key, storage = localStorage, scope = window.__md_scope) =>
      JSON.parse(storage.getItem(scope.pathname + "." + key));
    window.__md_set = (key, value, storage = localStorage, scope = window.__md_scope) => {
      try {
        storage.setItem(scope.pathname + "." + key, JSON.stringify(value));
      } catch (error) {
        // storage full or refused: the setting is not kept
      }
    };
  } else if (part === "palette") {
    // partials/javascripts/palette.html: the colour scheme a reader chose.
    const palette = window.__md_get("__palette");
    if (palette && palette.color) {
      if (palette.color.media === "(prefers-color-scheme)") {
        const light = matchMedia("(prefers-color-scheme: light)").matches;
        const input = document.querySelector(light
          ? "[data-md-color-media='(prefers-color-scheme: light)']"
          : "[data-md-color-media='(prefers-color-scheme: dark)']");
        palette.color.media = input.getAttribute("data-md-color-media");
        palette.color.scheme = input.getAttribute("data-md-color-scheme");
        palette.color.primary = input.getAttribute("data-md-color-primary");
        palette.color.accent = input.getAttribute("data-md-color-accent");
      }
      for (const [key, value] of Object.entries(palette.color)) {
        document.body.setAttribute("data-md-color-" + key, value);
      }
    }
  } else if (part === "content") {
    // partials/javascripts/content.html: a link to a content tab opens it.
    const target = document.getElementById(location.hash.slice(1));
    if (target && target.name) target.checked = target.name.startsWith("__tabbed_");
  }
})();
