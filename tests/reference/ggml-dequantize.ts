// ggml's own dequantization, called in libggml-base from node-llama-cpp's prebuilt binaries through koffi:
// the independent reference our CPU dequantizers (src/gguf/quant*.ts) must equal bit for bit.
//
//   void dequantize_row_<type>(const block_<type> * x, float * y, int64_t k)   k values, a whole number of blocks
//   void ggml_bf16_to_fp32_row(const ggml_bf16_t * x, float * y, int64_t n)

import koffi, { type LibraryHandle } from "koffi";
import { GgmlType, ggmlTypeName } from "../../src/gguf/types.js";
import { llamaCppLibrary } from "./llamacpp-libs.js";

type RowDequantizer = (bytes: Uint8Array, out: Float32Array, count: number) => void;

const SYMBOLS: Partial<Record<GgmlType, string>> = {
  [GgmlType.Q4_0]: "dequantize_row_q4_0",
  [GgmlType.Q4_1]: "dequantize_row_q4_1",
  [GgmlType.Q5_0]: "dequantize_row_q5_0",
  [GgmlType.Q5_1]: "dequantize_row_q5_1",
  [GgmlType.Q8_0]: "dequantize_row_q8_0",
  [GgmlType.Q2_K]: "dequantize_row_q2_K",
  [GgmlType.Q3_K]: "dequantize_row_q3_K",
  [GgmlType.Q4_K]: "dequantize_row_q4_K",
  [GgmlType.Q5_K]: "dequantize_row_q5_K",
  [GgmlType.Q6_K]: "dequantize_row_q6_K",
  [GgmlType.IQ4_NL]: "dequantize_row_iq4_nl",
  [GgmlType.IQ4_XS]: "dequantize_row_iq4_xs",
  [GgmlType.BF16]: "ggml_bf16_to_fp32_row",
  [GgmlType.F16]: "ggml_fp16_to_fp32_row",
};

let library: LibraryHandle | undefined;
const functions = new Map<GgmlType, RowDequantizer>();

function rowDequantizer(type: GgmlType): RowDequantizer {
  const known = functions.get(type);
  if (known) return known;
  const symbol = SYMBOLS[type];
  if (!symbol) throw new Error(`no ggml dequantizer bound for ${ggmlTypeName(type)}`);
  library ??= koffi.load(llamaCppLibrary("libggml-base"));
  const fn = library.func(`void ${symbol}(const uint8_t *x, _Inout_ float *y, int64_t k)`) as RowDequantizer;
  functions.set(type, fn);
  return fn;
}

/** `count` values of `type` from `bytes`, dequantized by ggml itself. */
export function ggmlDequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (count > 0) rowDequantizer(type)(bytes, out, count);
  return out;
}
