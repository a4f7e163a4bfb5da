// GGUF: read headers and tensors, convert tensor formats, write files. Browser-safe (no node: imports).
export * from "./errors.js";
export * from "./types.js";
export * from "./source.js";
export * from "./reader.js";
export * from "./metadata.js";
export * from "./quant.js";
export * from "./writer.js";
