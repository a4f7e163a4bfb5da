// The analytical memory estimator: model description + settings → bytes per category, with the arithmetic.
// Pure TypeScript, no runtime imports: runs in Node and in the page alike.
export * from "./errors.js";
export * from "./model.js";
export * from "./layers.js";
export * from "./weight-formats.js";
export * from "./kv-formats.js";
export * from "./inventory.js";
export * from "./params.js";
export * from "./weights.js";
export * from "./kv.js";
export * from "./activations.js";
export * from "./overhead.js";
export * from "./max-context.js";
export * from "./estimate.js";
export * from "./presets.js";
export * from "./parse-hf.js";
export * from "./parse-gguf.js";
export * from "./sweep.js";
export * from "./units.js";
export * from "./webkv.js";
