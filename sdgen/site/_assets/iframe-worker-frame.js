// Inside the hidden frame of iframe-worker-shim.js: the globals a worker's script expects.
// Defined here, in the frame, so that the page sees the frame as the sender of each message.
"use strict";
(() => {
  const worker = document.currentScript.dataset.worker;
  window.postMessage = (data, origin) => parent.postMessage(data, origin || "*");
  window.importScripts = (...urls) => urls.reduce((loaded, url) => loaded.then(
    () => new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      document.body.appendChild(script);
    })), Promise.resolve());
  addEventListener("error", ({ error }) => {
    parent.dispatchEvent(new ErrorEvent("error", { filename: worker, error }));
  });
})();
