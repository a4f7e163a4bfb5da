// Where node-llama-cpp keeps its prebuilt llama.cpp libraries (the CPU build for this platform), for tests
// that call llama.cpp's C API directly through koffi (llamacpp-quantize.ts, ggml-quants.ts).
//
//   node_modules/@node-llama-cpp/<platform>-<arch>/bins/<platform>-<arch>/
//     libllama[.vX.Y.Z].so    llama_model_quantize, llama_model_quantize_default_params
//     libggml-base.so         dequantize_row_*, ggml_bf16_to_fp32_row (plain C, no FMA: float32 step by step)
//
// node-llama-cpp 3.22.1 ships llama.cpp release "v0.5.0" of its own bundle (node-llama-cpp/llama/llama.cpp.info.json);
// the struct layouts and enum numbers used by the callers are that bundle's include/llama.h and ggml.h.

import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const LIBRARY_SUFFIX: Record<string, string> = { linux: ".so", darwin: ".dylib", win32: ".dll" };

/** The folder holding the prebuilt libraries, or an error naming what was looked for. */
export function llamaCppLibraryDir(): string {
  const target = `${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(`@node-llama-cpp/${target}`); // <package>/dist/index.js (its exports hide package.json)
  } catch {
    throw new Error(`node-llama-cpp's prebuilt binaries for ${target} (@node-llama-cpp/${target}) are not installed`);
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const bins = join(dir, "bins", target);
    if (existsSync(bins)) return bins;
  }
  throw new Error(`no bins/${target} folder above ${entry}`);
}

/** Path of the library whose file name starts with `stem` (e.g. "libllama" → libllama.v0.5.0.so). */
export function llamaCppLibrary(stem: string): string {
  const dir = llamaCppLibraryDir();
  const suffix = LIBRARY_SUFFIX[process.platform] ?? ".so";
  const name = readdirSync(dir).find((file) => (file === `${stem}${suffix}` || file.startsWith(`${stem}.`)) && file.endsWith(suffix));
  if (!name) throw new Error(`no ${stem}*${suffix} in ${dir}`);
  return join(dir, name);
}
