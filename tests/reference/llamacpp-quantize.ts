// GGUF files quantized by llama.cpp itself: llama_model_quantize from the libllama that node-llama-cpp ships,
// called through koffi in a child process (llamacpp-quantize-child.ts). Use it to make test models in any format
// llama.cpp writes, from an F32 (or F16) GGUF such as our writer's synthetic Llamas (src/gguf/synthetic.ts):
//
//   await writeGgufFile(f32Path, ...Object.values(syntheticLlama(shape, { seed, weightType: GgmlType.F32 })));
//   await quantizeWithLlamaCpp(f32Path, outPath, "Q4_K_M");          // llama.cpp's own per-tensor mix
//   await quantizeWithLlamaCpp(f32Path, outPath, "Q5_K_S", { pure: true }); // every matrix Q5_K
//
// What llama.cpp picks per tensor (read the output's header to see what you got):
//   - 1-D tensors (norms) stay F32. A "mostly X" ftype mixes types: Q4_K_M writes Q4_K with Q6_K for
//     output.weight, attn_v and about half the ffn_down; Q3_K_M uses Q3_K/Q4_K/Q5_K/Q6_K; Q2_K adds Q3_K/Q4_K.
//   - K-quant and IQ4_XS types need rows that are a multiple of 256; a tensor whose row is not falls back
//     (to IQ4_NL, Q5_0, Q5_1 or Q8_0, by the intended type). Use dims that are multiples of 256 for K-quants.
//   - `pure: true` makes every matrix the ftype's base type (output/embedding overrides still apply).
//   - The i-quant ftypes below IQ4 (IQ1_*, IQ2_*, IQ3_XXS…) need an importance matrix and fail without one;
//     IQ4_NL and IQ4_XS do not (listed below). Q2_K_S (21) needs one too. TQ1_0/TQ2_0 need ternary weights to be meaningful.
// Runs with one thread (nthread 1), deterministic. llama.cpp's log comes back in the result (and in errors).

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GgmlType } from "../../src/gguf/types.js";

/** llama_ftype numbers (include/llama.h of the bundled llama.cpp) of the file types that need no imatrix. */
export const LLAMA_FTYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K_S: 11,
  Q3_K_M: 12,
  Q3_K_L: 13,
  Q4_K_S: 14,
  Q4_K_M: 15,
  Q5_K_S: 16,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ4_NL: 25,
  IQ4_XS: 30,
  BF16: 32,
} as const;

export type LlamaFtype = keyof typeof LLAMA_FTYPES;

export interface LlamaCppQuantizeOptions {
  /** Every matrix in the ftype's base type instead of llama.cpp's mix (llama-quantize --pure). */
  pure?: boolean;
  /** Type of output.weight (llama-quantize --output-tensor-type). */
  outputTensorType?: GgmlType;
  /** Type of token_embd.weight (llama-quantize --token-embedding-type). */
  tokenEmbeddingType?: GgmlType;
  /** false leaves output.weight unquantized (--leave-output-tensor). */
  quantizeOutputTensor?: boolean;
}

const CHILD = fileURLToPath(new URL("./llamacpp-quantize-child.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url)); // where `--import tsx` resolves
const run = promisify(execFile);

/**
 * Quantizes the GGUF at `inPath` into `outPath` with llama.cpp's llama_model_quantize. Resolves with
 * llama.cpp's log; rejects with an error carrying its last lines when llama.cpp refuses or fails.
 */
export async function quantizeWithLlamaCpp(
  inPath: string,
  outPath: string,
  ftype: LlamaFtype,
  options: LlamaCppQuantizeOptions = {},
): Promise<{ log: string }> {
  const request = { input: inPath, output: outPath, ftype: LLAMA_FTYPES[ftype], nthread: 1, ...options };
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(request)], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60 * 1000,
    });
    return { log: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    const log = `${e.stdout ?? ""}${e.stderr ?? ""}`.trimEnd().split("\n").slice(-20).join("\n");
    throw new Error(`llama_model_quantize(${inPath} → ${outPath}, ${ftype}) failed (exit ${e.code}): ${e.message.split("\n")[0]}\n${log}`, {
      cause: error,
    });
  }
}
