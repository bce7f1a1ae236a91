// Mermaid sanitises labels with DOMPurify, which needs a DOM; whether a diagram parses does not
// depend on it, so the bundle uses this identity stand-in.
const DOMPurify = {
  sanitize: (text) => text,
  addHook: () => {},
  removeHook: () => {},
  removeHooks: () => {},
  removeAllHooks: () => {},
  setConfig: () => {},
  clearConfig: () => {},
  isSupported: true,
  version: "stub",
};
export default DOMPurify;
