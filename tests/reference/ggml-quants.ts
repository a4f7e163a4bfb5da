// ggml's own quantization and dequantization, called in libggml-base from node-llama-cpp's prebuilt binaries
// through koffi: the independent reference our CPU dequantizers (src/gguf/quant*.ts) must equal bit for bit,
// and a quantizer for test matrices of any shape in the formats webkv reads but does not write.
//
//   void dequantize_row_<type>(const block_<type> * x, float * y, int64_t k)   k values, a whole number of blocks
//   void ggml_bf16_to_fp32_row(const ggml_bf16_t * x, float * y, int64_t n)
//   size_t quantize_<type>(const float * src, void * dst, int64_t nrows, int64_t n_per_row, const float * imatrix)
//     (what llama_model_quantize calls per tensor; imatrix NULL)

import koffi, { type LibraryHandle } from "koffi";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "../../src/gguf/types.js";
import { llamaCppLibrary } from "./llamacpp-libs.js";

type RowDequantizer = (bytes: Uint8Array, out: Float32Array, count: number) => void;
type RowsQuantizer = (values: Float32Array, out: Uint8Array, rows: number, rowLength: number, imatrix: null) => number | bigint;

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
const quantizers = new Map<GgmlType, RowsQuantizer>();

function ggmlBase(): LibraryHandle {
  library ??= koffi.load(llamaCppLibrary("libggml-base"));
  return library;
}

function rowDequantizer(type: GgmlType): RowDequantizer {
  const known = functions.get(type);
  if (known) return known;
  const symbol = SYMBOLS[type];
  if (!symbol) throw new Error(`no ggml dequantizer bound for ${ggmlTypeName(type)}`);
  const fn = ggmlBase().func(`void ${symbol}(const uint8_t *x, _Inout_ float *y, int64_t k)`) as RowDequantizer;
  functions.set(type, fn);
  return fn;
}

/** `count` values of `type` from `bytes`, dequantized by ggml itself. */
export function ggmlDequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (count > 0) rowDequantizer(type)(bytes, out, count);
  return out;
}

const QUANTIZE_SYMBOLS: Partial<Record<GgmlType, string>> = {
  [GgmlType.Q4_0]: "quantize_q4_0",
  [GgmlType.Q4_1]: "quantize_q4_1",
  [GgmlType.Q5_0]: "quantize_q5_0",
  [GgmlType.Q5_1]: "quantize_q5_1",
  [GgmlType.Q8_0]: "quantize_q8_0",
  [GgmlType.Q2_K]: "quantize_q2_K",
  [GgmlType.Q3_K]: "quantize_q3_K",
  [GgmlType.Q4_K]: "quantize_q4_K",
  [GgmlType.Q5_K]: "quantize_q5_K",
  [GgmlType.Q6_K]: "quantize_q6_K",
  [GgmlType.IQ4_NL]: "quantize_iq4_nl",
  [GgmlType.IQ4_XS]: "quantize_iq4_xs",
};

/** A [rows, rowLength] matrix of float32 values quantized to `type` by ggml (GGUF block bytes, row after row). */
export function ggmlQuantize(type: GgmlType, values: Float32Array, rows: number, rowLength: number): Uint8Array {
  const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
  if (values.length !== rows * rowLength || rowLength % blockElements !== 0) {
    throw new Error(`ggmlQuantize: ${values.length} values as ${rows} rows of ${rowLength} in ${ggmlTypeName(type)} blocks of ${blockElements}`);
  }
  let fn = quantizers.get(type);
  if (!fn) {
    const symbol = QUANTIZE_SYMBOLS[type];
    if (!symbol) throw new Error(`no ggml quantizer bound for ${ggmlTypeName(type)}`);
    fn = ggmlBase().func(`size_t ${symbol}(const float *src, _Inout_ uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix)`) as RowsQuantizer;
    quantizers.set(type, fn);
  }
  const out = new Uint8Array((rows * rowLength / blockElements) * blockBytes);
  const written = Number(fn(values, out, rows, rowLength, null));
  if (written !== out.byteLength) throw new Error(`${QUANTIZE_SYMBOLS[type]} wrote ${written} bytes, expected ${out.byteLength}`);
  return out;
}
