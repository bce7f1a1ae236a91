// A Web Worker for pages opened as files (file://), where browsers start none: the worker's
// script runs in a hidden frame instead, and talks to the page by messages. After iframe-worker
// (MIT licence), which mkdocs-material's offline plugin asks for; rewritten so that the frame
// runs no inline script (the pages' Content Security Policy runs none): the worker's globals
// come from a file of the site, iframe-worker-frame.js, beside this one.
"use strict";
(() => {
  const FRAME_SCRIPT = new URL("iframe-worker-frame.js", document.currentScript.src).href;
  const attribute = (value) => String(value).replace(/&/g, "&amp;").replace(/"/g, "&quot;")
    .replace(/</g, "&lt;");

  class IFrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.onMessage = (event) => {
        if (event.source !== this.window) return;
        this.dispatchEvent(new MessageEvent("message", { data: event.data }));
        if (this.onmessage) this.onmessage(event);
      };
      this.onError = (message, filename, lineno, colno, error) => {
        if (filename !== `${this.url}`) return;
        const event = new ErrorEvent("error", { message, filename, lineno, colno, error });
        this.dispatchEvent(event);
        if (this.onerror) this.onerror(event);
      };
      const frame = document.createElement("iframe");
      frame.hidden = true;
      document.body.appendChild(this.iframe = frame);
      this.window.document.open();
      this.window.document.write(
        `<html><body><script src="${attribute(FRAME_SCRIPT)}" data-worker="${attribute(url)}">` +
        `<\/script><script src="${attribute(`${url}?${Date.now()}`)}"><\/script></body></html>`);
      this.window.document.close();
      window.onmessage = this.onMessage;
      window.onerror = this.onError;
      this.ready = new Promise((resolve, reject) => {
        this.window.onload = resolve;
        this.window.onerror = reject;
      });
    }

    terminate() {
      this.iframe.remove();
      window.onmessage = window.onerror = null;
    }

    postMessage(data) {
      this.ready.catch().then(() => {
        this.window.dispatchEvent(new MessageEvent("message", structuredClone({ data })));
      });
    }

    get window() {
      return this.iframe.contentWindow;
    }
  }

  window.IFrameWorker = IFrameWorker;
  if (location.protocol === "file:") window.Worker = IFrameWorker;
})();
