// What embedded V8 lacks and Mermaid's parsers touch: a few browser globals, no DOM.
globalThis.window = globalThis;
globalThis.self = globalThis;
if (typeof globalThis.console === "undefined") {
  const quiet = () => {};
  globalThis.console = { log: quiet, info: quiet, warn: quiet, error: quiet, debug: quiet, trace: quiet };
}
if (typeof globalThis.queueMicrotask === "undefined") {
  globalThis.queueMicrotask = (callback) => Promise.resolve().then(callback);
}
if (typeof globalThis.setTimeout === "undefined") {
  // No event loop to wait on: run the callback as a microtask (parsing never needs real time).
  globalThis.setTimeout = (callback, _delay, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 0;
  };
  globalThis.clearTimeout = () => {};
  globalThis.setInterval = () => 0;
  globalThis.clearInterval = () => {};
}
if (typeof globalThis.structuredClone === "undefined") {
  globalThis.structuredClone = (value) => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
}
if (typeof globalThis.TextEncoder === "undefined") {
  globalThis.TextEncoder = class {
    encode(text) {
      const utf8 = unescape(encodeURIComponent(String(text)));
      return Uint8Array.from(utf8, (c) => c.charCodeAt(0));
    }
  };
  globalThis.TextDecoder = class {
    decode(bytes) {
      return decodeURIComponent(escape(String.fromCharCode(...(bytes || []))));
    }
  };
}
if (typeof globalThis.Option === "undefined") {
  // The sequence diagram's `box <colour>` checks a colour with `new Option().style`.
  globalThis.Option = class {
    constructor() {
      this.style = {};
    }
  };
}
if (typeof globalThis.URL === "undefined") {
  // `click A "https://..."` sanitises its link with `new URL(...)`: enough of URL for that.
  globalThis.URL = class {
    constructor(url, base) {
      const text = String(url);
      const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
      if (!scheme && base === undefined) throw new TypeError(`Invalid URL: ${text}`);
      this.href = scheme ? text : String(base).replace(/\/?$/, "/") + text.replace(/^\//, "");
      this.protocol = scheme ? `${scheme[1].toLowerCase()}:` : new globalThis.URL(base).protocol;
      const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#:]*)/.exec(this.href);
      this.hostname = authority ? authority[1] : "";
    }
    toString() {
      return this.href;
    }

    static canParse(url, base) {
      try {
        new globalThis.URL(url, base);
        return true;
      } catch {
        return false;
      }
    }
  };
}
