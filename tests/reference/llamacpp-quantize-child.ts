// Child process of quantizeWithLlamaCpp (llamacpp-quantize.ts): calls llama.cpp's llama_model_quantize once
// through koffi and exits with its return code. It runs apart from the test process so llama.cpp's log (written
// to stderr) is captured rather than printed, and so its global log hook never touches a node-llama-cpp instance.
//
// argv[2]: JSON { input, output, ftype (llama_ftype number), nthread, pure?, outputTensorType?, tokenEmbeddingType?,
//                 quantizeOutputTensor? }
//
// llama_model_quantize_params as include/llama.h of the bundled llama.cpp declares it (C layout, 64 bytes on
// 64-bit targets):
//   int32_t nthread; enum llama_ftype ftype; enum ggml_type output_tensor_type; enum ggml_type token_embedding_type;
//   bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
//   const llama_model_imatrix_data * imatrix; const llama_model_kv_override * kv_overrides;
//   const llama_model_tensor_override * tt_overrides; const int32_t * prune_layers; size_t max_buf_size;
// Fields not set here keep llama_model_quantize_default_params()'s values.

import koffi from "koffi";
import { llamaCppLibrary } from "./llamacpp-libs.js";

interface ChildRequest {
  input: string;
  output: string;
  ftype: number;
  nthread: number;
  pure?: boolean;
  outputTensorType?: number;
  tokenEmbeddingType?: number;
  quantizeOutputTensor?: boolean;
}

const request = JSON.parse(process.argv[2]!) as ChildRequest;
const lib = koffi.load(llamaCppLibrary("libllama"));
const params = koffi.struct("llama_model_quantize_params", {
  nthread: "int32_t",
  ftype: "int", // enum llama_ftype
  output_tensor_type: "int", // enum ggml_type (GGML_TYPE_COUNT: the ftype's choice)
  token_embedding_type: "int",
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: "void *",
  kv_overrides: "void *",
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
});
if (koffi.sizeof(params) !== 64) throw new Error(`llama_model_quantize_params laid out in ${koffi.sizeof(params)} bytes, expected 64`);
const defaultParams = lib.func("llama_model_quantize_params llama_model_quantize_default_params(void)");
const quantize = lib.func("uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)");

const p = defaultParams() as Record<string, unknown>;
p.nthread = request.nthread;
p.ftype = request.ftype;
if (request.pure !== undefined) p.pure = request.pure;
if (request.outputTensorType !== undefined) p.output_tensor_type = request.outputTensorType;
if (request.tokenEmbeddingType !== undefined) p.token_embedding_type = request.tokenEmbeddingType;
if (request.quantizeOutputTensor !== undefined) p.quantize_output_tensor = request.quantizeOutputTensor;
const rc = quantize(request.input, request.output, p) as number;
process.exit(rc === 0 ? 0 : 10 + Math.min(rc, 100));
