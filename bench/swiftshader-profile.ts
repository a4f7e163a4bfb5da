// What bounds webkv's decode speed on SwiftShader (WebGPU on the CPU), measured in one run, so that the speed
// targets of the peers bench can be read against what this adapter can do at all:
//   1. the adapter's floor: the time of an empty compute dispatch (one pass, many dispatches), a vec4 copy
//      kernel's bandwidth, and the rate at which matrix-vector kernels of three shapes read weights
//      (f32 one row per invocation; Q8_0 with the block dequantized into a private array as webkv's row
//      kernel does; Q8_0 dequantized and dotted word by word; Q8_0 with four rows per invocation sharing x),
//      and webkv's own decode matmuls (shaders/matmul.wgsl, matmul_rows.wgsl: f32 inputs, bytes in place, int8
//      inputs, quants in buffers and as texels) on the same matrix in Q8_0 and in Q4_0, and over 30 distinct gate/up-sized Q8_0 matrices (out of the
//      caches, as in a model) packed row by row and in row groups; a Q8_0 matvec reading its quants as storage words
//      and as rgba32uint texels (16 bytes a lane a fetch); and the read floor: kernels that only read the matrix's
//      words (XOR them; three access patterns), the most any kernel reading those bytes can do, whatever its math;
//   2. webkv's decode step on stories260K (F32) and on SmolLM2-135M-shaped Q8_0 and Q4_0 models: wall time per step,
//      dispatches and syncs per step, and the GPU time per kernel kind (timestamp queries);
//   3. wllama (llama.cpp in WebAssembly, one thread) decoding the same prompts in the same page, interleaved
//      with webkv, with webkv on its former decode kernel (one row an invocation) and, for the quantized models,
//      with webkv on f32 inputs (SwiftShader's decode default before int8 inputs unpacked in place; ≥ 3 rounds, medians);
//   4. the ceilings these imply: dispatches × the empty-dispatch time bounds a step from below however fast
//      each kernel is; a weight-heavy model's weights ÷ the best matvec rate of their format bounds it too, and
//      its weight bytes ÷ the read floor bounds every kernel that reads them.
//   npx tsx bench/swiftshader-profile.ts [--rounds 3]
// Writes bench/results/swiftshader-profile.json and .md.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LoadResult } from "../src/app/runtime.js";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "../src/gguf/types.js";
import { f32, wgslWithConstants, type WgslConstant } from "../src/gpu/pipelines.js";
import { BrowserSession } from "../src/harness/session.js";
import { machineNote, markdownTable, median, modelsDir, scratchDir, SMOLLM2_135M_SHAPE, SYNTHETIC_BYTE_TOKENS, writeResults, writeSynthetic } from "./lib.js";
import { promptTexts, webkvPeer, wllamaPeer, type Measurement } from "./peer-runners.js";

const { values } = parseArgs({ options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
const dir = scratchDir("webkv-profile-");

// ---- 1. the adapter's floor (raw WGSL, timed in the page) -------------------------------------------------

/** Runs in the page (as source text: no bundler helpers). Each kernel: warm-up, then 5 timed submissions of
 *  `reps` dispatches in one pass; the median per dispatch. */
const MICRO = String.raw`async (webkvKernels, streamingKernels) => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const buffer = (bytes) => device.createBuffer({ size: bytes, usage: STORAGE });
  // bindings: the kernel's resources in binding order (buffers or texture views), or several such lists — a
  // dispatch of each per rep, in order (the streaming case). Returns ms per rep.
  async function time(code, bindings, workgroups, reps) {
    const module = device.createShaderModule({ code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length) throw new Error(errors.map((e) => e.message).join("; "));
    const pipeline = await device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "main" } });
    const sets = Array.isArray(bindings[0]) ? bindings : [bindings];
    const groups = sets.map((set) => device.createBindGroup({ layout: pipeline.getBindGroupLayout(0),
      entries: set.map((r, i) => ({ binding: i, resource: r instanceof GPUBuffer ? { buffer: r } : r })) }));
    const once = async () => {
      const start = performance.now();
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      for (let i = 0; i < reps; i++) {
        for (const group of groups) {
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(workgroups);
        }
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - start) / reps;
    };
    await once();
    const samples = [];
    for (let i = 0; i < 5; i++) samples.push(await once());
    samples.sort((a, b) => a - b);
    return samples[2];
  }
  const out = {};
  const tiny = buffer(256 * 4);
  const empty = "@group(0) @binding(0) var<storage, read_write> y: array<f32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (g.x == 0u) { y[0] = 1.0; } }";
  out.empty_dispatch_ms = { one_workgroup: await time(empty, [tiny], 1, 200), sixty_four_workgroups: await time(empty, [tiny], 64, 200) };

  const copyBytes = 32 << 20; // 32768 workgroups of 64 vec4s: within maxComputeWorkgroupsPerDimension
  const src = buffer(copyBytes), dst = buffer(copyBytes);
  const copy = "@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>; @group(0) @binding(1) var<storage, read_write> b: array<vec4<f32>>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { b[g.x] = a[g.x]; }";
  const copyMs = await time(copy, [src, dst], copyBytes / 16 / 64, 3);
  out.copy = { bytes: copyBytes, ms: copyMs, GB_s_read_plus_write: (2 * copyBytes) / copyMs / 1e6 };

  const N = 4096;
  const wF32 = buffer(N * N * 4), xF32 = buffer(N * 4), yF32 = buffer(N * 4);
  const f32Rows = "@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>; @group(0) @binding(1) var<storage, read> x: array<vec4<f32>>; @group(0) @binding(2) var<storage, read_write> y: array<f32>;" +
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { var acc = 0.0; for (var c = 0u; c < " + N / 4 + "u; c++) { acc += dot(w[g.x * " + N / 4 + "u + c], x[c]); } y[g.x] = acc; }";
  const f32Ms = await time(f32Rows, [wF32, xF32, yF32], N / 64, 3);
  out.f32_matvec_row_per_invocation = { rows: N, cols: N, ms: f32Ms, GB_s: (N * N * 4) / f32Ms / 1e6, Gweights_s: (N * N) / f32Ms / 1e6 };

  // Q8_0 [ROWS × COLS]: 32 int8 per block in 8 words, one f16 scale per block (webkv's split layout).
  const ROWS = 1536, COLS = 576, BPR = COLS / 32;
  const q8Bytes = ROWS * COLS + (ROWS * BPR) * 2;
  const wq = buffer(ROWS * COLS), sq = buffer(ROWS * BPR * 2), xq = buffer(COLS * 4), yq = buffer(ROWS * 4);
  const q8Common = "@group(0) @binding(0) var<storage, read> w_data: array<u32>; @group(0) @binding(1) var<storage, read> w_scales: array<u32>;" +
    "@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>; @group(0) @binding(3) var<storage, read_write> y: array<f32>;" +
    "const BPR: u32 = " + BPR + "u; const ROWS: u32 = " + ROWS + "u;" +
    "fn scale_of(i: u32) -> f32 { let h = unpack2x16float(w_scales[i >> 1u]); return select(h.x, h.y, (i & 1u) == 1u); }" +
    "fn bytes4(word: u32) -> vec4<f32> { return vec4<f32>(unpack4xI8(word)); }";
  const q8Kernels = {
    block_in_private_array: q8Common + "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let row = g.x; if (row >= ROWS) { return; } var acc = 0.0;" +
      "for (var b = 0u; b < BPR; b++) { var w: array<vec4<f32>, 8>; let s = scale_of(row * BPR + b); for (var k = 0u; k < 8u; k++) { w[k] = bytes4(w_data[(row * BPR + b) * 8u + k]) * s; }" +
      "var sum = 0.0; for (var k = 0u; k < 8u; k++) { sum += dot(w[k], x[b * 8u + k]); } acc += sum; } y[row] = acc; }",
    word_by_word: q8Common + "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let row = g.x; if (row >= ROWS) { return; } var acc = 0.0;" +
      "for (var b = 0u; b < BPR; b++) { let base = (row * BPR + b) * 8u; var sum = 0.0; for (var k = 0u; k < 8u; k++) { sum += dot(bytes4(w_data[base + k]), x[b * 8u + k]); } acc += sum * scale_of(row * BPR + b); } y[row] = acc; }",
    four_rows_share_x: q8Common + "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let r = g.x * 4u; if (r >= ROWS) { return; } var a = vec4<f32>();" +
      "for (var b = 0u; b < BPR; b++) { var s = vec4<f32>(); for (var k = 0u; k < 8u; k++) { let xv = x[b * 8u + k]; let at = (r * BPR + b) * 8u + k;" +
      "s += vec4<f32>(dot(bytes4(w_data[at]), xv), dot(bytes4(w_data[at + BPR * 8u]), xv), dot(bytes4(w_data[at + 2u * BPR * 8u]), xv), dot(bytes4(w_data[at + 3u * BPR * 8u]), xv)); }" +
      "a += s * vec4<f32>(scale_of(r * BPR + b), scale_of((r + 1u) * BPR + b), scale_of((r + 2u) * BPR + b), scale_of((r + 3u) * BPR + b)); }" +
      "y[r] = a.x; y[r + 1u] = a.y; y[r + 2u] = a.z; y[r + 3u] = a.w; }",
  };
  out.q8_0_matvec = {};
  for (const [name, code] of Object.entries(q8Kernels)) {
    const rowsPerInvocation = name === "four_rows_share_x" ? 4 : 1;
    const ms = await time(code, [wq, sq, xq, yq], Math.ceil(ROWS / rowsPerInvocation / 64), 10);
    out.q8_0_matvec[name] = { rows: ROWS, cols: COLS, ms, GB_s: q8Bytes / ms / 1e6, Gweights_s: (ROWS * COLS) / ms / 1e6 };
  }
  // webkv's own decode kernels on the same matrix (sources built from shaders/ by the bench, bindings as matmul.ts binds them)
  const stepUniform = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(stepUniform, 0, new Uint32Array([1, 1, 1, 1, 1, 1, 0, 0]));
  const params = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, new Uint32Array([ROWS, 0, ROWS, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // MatmulParams: rows, row offset, y stride, epilogue 0 (store), unused qkv fields
  // (a Q4_0 matrix reads the first half of the same data buffer: 4 words a block)
  const q4Bytes = ROWS * COLS / 2 + (ROWS * BPR) * 2;
  // quants as texels (tuning.weightTexels): the matrix's quants in an rgba32uint texture as weight-layout.ts shapes
  // it (width the largest power of two dividing the texels), log2 of its width in the uniform (MatmulParams word 10)
  const texels = {};
  for (const [format, count] of [["Q8_0", ROWS * COLS / 16], ["Q4_0", ROWS * COLS / 32]]) {
    let widthLog2 = 0;
    while (count % 2 ** (widthLog2 + 1) === 0 && 2 ** (widthLog2 + 1) <= device.limits.maxTextureDimension2D) widthLog2++;
    const texture = device.createTexture({ size: [2 ** widthLog2, count / 2 ** widthLog2], format: "rgba32uint", usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
    const texelParams = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(texelParams, 0, new Uint32Array([ROWS, 0, ROWS, 0, 0, 0, 0, 0, 0, 0, widthLog2, 0]));
    texels[format] = { view: texture.createView(), params: texelParams };
  }
  out.webkv_decode_matmul = {};
  for (const kernel of webkvKernels) {
    const bindings = kernel.texels ? [stepUniform, texels[kernel.format].params, wq, sq, xq, yq, xq, texels[kernel.format].view] : [stepUniform, params, wq, sq, xq, yq, xq];
    const ms = await time(kernel.code, bindings, Math.ceil(ROWS / kernel.rowsPerInvocation / kernel.workgroupSize), 10);
    out.webkv_decode_matmul[kernel.format + " " + kernel.name] = { format: kernel.format, rows: ROWS, cols: COLS, ms, GB_s: (kernel.format === "Q4_0" ? q4Bytes : q8Bytes) / ms / 1e6, Gweights_s: (ROWS * COLS) / ms / 1e6 };
  }
  // Streaming: webkv's decode kernel (quants in buffers) over 30 distinct [3072 × 576] Q8_0 matrices (SmolLM2-135M's
  // gate/up of 30 layers, 53 MB: out of the caches, as in a model), one dispatch each, packed row by row and in groups of 8.
  const STREAM_ROWS = 3072, STREAM_MATRICES = 30;
  const streamParams = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(streamParams, 0, new Uint32Array([STREAM_ROWS, 0, STREAM_ROWS, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const streamY = buffer(STREAM_ROWS * 4);
  const streamWeights = Array.from({ length: STREAM_MATRICES }, () => [buffer(STREAM_ROWS * COLS), buffer(STREAM_ROWS * BPR * 2)]);
  out.webkv_streaming = {};
  for (const kernel of streamingKernels) {
    const ms = await time(kernel.code, streamWeights.map(([w, s]) => [stepUniform, streamParams, w, s, xq, streamY, xq]), STREAM_ROWS / 64, 1);
    out.webkv_streaming[kernel.name] = { matrices: STREAM_MATRICES, rows: STREAM_ROWS, cols: COLS, ms, Gweights_s: STREAM_MATRICES * STREAM_ROWS * COLS / ms / 1e6 };
  }
  // Storage words against texels: a Q8_0 [49152 × 576] matvec (27 MiB of quants, rows in groups of 8, 8 rows an
  // invocation, 8 invocations, int8 inputs unpacked in place) reading its quants as storage words — a gather per lane
  // each — or as rgba32uint texels, 16 bytes a lane a textureLoad. webkv reads storage words; this measures the other.
  const TEX_ROWS = 49152, TEX_WIDTH = 4096, TEXELS = TEX_ROWS * COLS / 16;
  const texQuants = buffer(TEX_ROWS * COLS), texScales = buffer(TEX_ROWS * BPR * 2), texY = buffer(TEX_ROWS * 4);
  const texture = device.createTexture({ size: [TEX_WIDTH, TEXELS / TEX_WIDTH], format: "rgba32uint", usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  const quantWords = new Uint32Array(TEX_ROWS * COLS / 4);
  for (let i = 0; i < quantWords.length; i++) quantWords[i] = (i * 2654435761) >>> 0;
  device.queue.writeBuffer(texQuants, 0, quantWords);
  device.queue.writeTexture({ texture }, quantWords, { bytesPerRow: TEX_WIDTH * 16 }, [TEX_WIDTH, TEXELS / TEX_WIDTH]);
  const texKernel = (fromTexture) => {
    let code = (fromTexture ? "@group(0) @binding(0) var w_tex: texture_2d<u32>;" : "@group(0) @binding(0) var<storage, read> w_data: array<u32>;") +
      "@group(0) @binding(1) var<storage, read> w_scales: array<u32>; @group(0) @binding(2) var<storage, read> x: array<vec4<u32>>; @group(0) @binding(3) var<storage, read_write> y: array<f32>;" +
      "const BPR: u32 = " + BPR + "u; const W: u32 = " + TEX_WIDTH + "u;" +
      "const BYTE_MASKS = vec4<i32>(0xff, 0xff00, 0xff0000, -0x1000000); const BYTE_SIGN_BITS = vec4<i32>(0x80, 0x8000, 0x800000, 0); const BYTE_SCALES = vec4<f32>(1.0, 1.0 / 256.0, 1.0 / 65536.0, 1.0 / 16777216.0);" +
      "fn int8x4(word: u32) -> vec4<f32> { let p = vec4<i32>(bitcast<i32>(word)) & BYTE_MASKS; return vec4<f32>((p ^ BYTE_SIGN_BITS) - BYTE_SIGN_BITS) * BYTE_SCALES; }" +
      "fn q8(word: u32) -> vec4<f32> { return vec4<f32>(vec4<i32>(bitcast<i32>(word ^ 0x808080u)) & BYTE_MASKS); }" +
      "fn scale_of(i: u32) -> f32 { let h = unpack2x16float(w_scales[i >> 1u]); return select(h.x, h.y, (i & 1u) == 1u); }" +
      "fn texel(t: u32) -> vec4<u32> { " + (fromTexture ? "return textureLoad(w_tex, vec2<u32>(t % W, t / W), 0);" : "let at = t * 4u; return vec4<u32>(w_data[at], w_data[at + 1u], w_data[at + 2u], w_data[at + 3u]);") + " }" +
      "fn row_block(i: u32, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) -> f32 {" +
      " let a = texel(2u * i); let c = texel(2u * i + 1u);" +
      " return (dot(q8(a.x), x0) + dot(q8(a.y), x1) + dot(q8(a.z), x2) + dot(q8(a.w), x3) + dot(q8(c.x), x4) + dot(q8(c.y), x5) + dot(q8(c.z), x6) + dot(q8(c.w), x7)) * scale_of(i); }" +
      "@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let r0 = g.x * 8u; var lo = vec4<f32>(); var hi = vec4<f32>();" +
      " for (var b = 0u; b < BPR; b++) { let u = x[2u * b]; let v = x[2u * b + 1u];" +
      " let x0 = int8x4(u.x) * BYTE_SCALES; let x1 = int8x4(u.y) * BYTE_SCALES; let x2 = int8x4(u.z) * BYTE_SCALES; let x3 = int8x4(u.w) * BYTE_SCALES;" +
      " let x4 = int8x4(v.x) * BYTE_SCALES; let x5 = int8x4(v.y) * BYTE_SCALES; let x6 = int8x4(v.z) * BYTE_SCALES; let x7 = int8x4(v.w) * BYTE_SCALES;" +
      " let i = r0 * BPR + b * 8u;";
    for (let r = 0; r < 8; r++) code += (r < 4 ? " lo[" + r + "]" : " hi[" + (r - 4) + "]") + " += row_block(i + " + r + "u, x0, x1, x2, x3, x4, x5, x6, x7);";
    code += " } for (var r = 0u; r < 4u; r++) { y[r0 + r] = lo[r]; y[r0 + 4u + r] = hi[r]; } }";
    return code;
  };
  out.texture_fetch = {};
  for (const [name, fromTexture] of [["storage words", false], ["rgba32uint texels", true]]) {
    const ms = await time(texKernel(fromTexture), [fromTexture ? texture.createView() : texQuants, texScales, xq, texY], TEX_ROWS / 64, 3);
    out.texture_fetch[name] = { rows: TEX_ROWS, cols: COLS, ms, Gweights_s: TEX_ROWS * COLS / ms / 1e6 };
  }
  // The read floor: the Q8_0 matrix's words read once each and XORed, no other work. Patterns: 4 rows an
  // invocation word by word (the rows kernel's), the same by vec4, and 64 lanes reading neighbouring vec4s.
  const WORDS = ROWS * COLS / 4, WPR = COLS / 4;
  const readHead = (element) => "@group(0) @binding(0) var<storage, read> w: array<" + element + ">; @group(0) @binding(1) var<storage, read_write> y: array<u32>; const WPR: u32 = " + WPR + "u;";
  const readKernels = {
    rows4_words: { groups: ROWS / 16, code: readHead("u32") + "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let r0 = g.x * 4u; var a = vec4<u32>();" +
      "for (var c = 0u; c < WPR; c++) { a ^= vec4<u32>(w[r0 * WPR + c], w[(r0 + 1u) * WPR + c], w[(r0 + 2u) * WPR + c], w[(r0 + 3u) * WPR + c]); } y[g.x] = a.x ^ a.y ^ a.z ^ a.w; }" },
    rows4_vec4: { groups: ROWS / 16, code: readHead("vec4<u32>") + "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) g: vec3<u32>) { let r0 = g.x * 4u; var a = vec4<u32>(); let q = WPR / 4u;" +
      "for (var c = 0u; c < q; c++) { a ^= w[r0 * q + c] ^ w[(r0 + 1u) * q + c] ^ w[(r0 + 2u) * q + c] ^ w[(r0 + 3u) * q + c]; } y[g.x] = a.x ^ a.y ^ a.z ^ a.w; }" },
    neighbouring_vec4_64_lanes: { groups: ROWS / 64, code: readHead("vec4<u32>") + "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {" +
      "var a = vec4<u32>(); let base = wg.x * 16u * WPR; for (var c = 0u; c < WPR / 4u; c++) { a ^= w[base + c * 64u + l]; } y[g.x] = a.x ^ a.y ^ a.z ^ a.w; }" },
  };
  out.read_floor = {};
  const yRead = buffer(ROWS * 4);
  for (const [name, k] of Object.entries(readKernels)) {
    const ms = await time(k.code, [wq, yRead], k.groups, 10);
    out.read_floor[name] = { bytes: WORDS * 4, ms, GB_s: (WORDS * 4) / ms / 1e6 };
  }
  device.destroy();
  return out;
}`;

const shader = (name: string) => readFileSync(join(import.meta.dirname, "..", "shaders", `${name}.wgsl`), "utf8");

// The micro benchmark's webkv kernels, assembled as matmul.ts assembles them: its constants for a Q8_0 [· × 576]
// matrix, the libraries every matmul includes and those of the rows kernel.
const constants = {
  WEIGHT_FORMAT: GgmlType.Q8_0, COLS: 576, TOKEN_TILE: 1, ACCUMULATE: false, X_ROWS_ARE_LOGIT_ROWS: false, WORKGROUP_SIZE: 64,
  NORM_INPUT: false, NORM_STAGED: false, NORM_LANES: 1, NORM_PER_INVOCATION: false, EPS: f32(1e-5), GLU: false, GELU_TANH: false,
  INT8_X: false, X_INT8_STRIDE: 4, BYTES_IN_PLACE: false, ROW_GROUP: 1, Y_QKV: false, GLU_PAIRED: false, Q_ROWS: 0, KV_ROWS: 0, Y_Q_BASE: 0, Y_K_BASE: 0, Y_V_BASE: 0,
};
// int8 inputs: x holds the quantized row (576 values: 18 blocks × 10 words = 180 words, inside the 576-float x buffer)
const int8 = { INT8_X: true, X_INT8_STRIDE: 180 };
const library = shader("int8") + shader("weights") + shader("weight_quants_storage") + shader("activation") + shader("matmul_norm");
const texelsLibrary = shader("int8") + shader("weights") + shader("weight_quants_texels") + shader("activation") + shader("matmul_norm");
const rowsLibrary = shader("weights_block8") + shader("weights_int8") + shader("matmul_rows");
const kernelSource = (code: string, values: Record<string, WgslConstant>) => wgslWithConstants(`${shader("step")}\n${code}`, values); // as src/kernels/wgsl.ts

/** webkv's decode matmul kernels for the micro benchmark's [1536 × 576] matrix in Q8_0 and Q4_0, assembled as matmul.ts does. */
function webkvKernels(): { format: "Q8_0" | "Q4_0"; name: string; code: string; rowsPerInvocation: number; workgroupSize: number; texels?: boolean }[] {
  const q8: { name: string; code: string; rowsPerInvocation: number; workgroupSize: number; texels?: boolean }[] = [
    { name: "row (matmul.wgsl: one row an invocation, block in a private array)", code: kernelSource(library + shader("matmul"), constants), rowsPerInvocation: 1, workgroupSize: 64 },
    // as matmul.ts builds them: the tuning's workgroup size over the rows an invocation owns (16 on CPU adapters: 4
    // invocations of 4 rows; with 64, 16 invocations)
    { name: "rows 4 (matmul_rows.wgsl: 4 rows share x, word by word; 4 invocations a workgroup)", code: kernelSource(library + rowsLibrary, { ...constants, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...constants, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    { name: "rows 8", code: kernelSource(library + rowsLibrary, { ...constants, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    // int8 inputs (weights_int8.wgsl: the input quantized to int8 blocks, dot4I8Packed), SwiftShader's decode default
    { name: "rows 4, int8 inputs (weights_int8.wgsl: dot4I8Packed; 4 invocations a workgroup)", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, int8 inputs, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    { name: "rows 8, int8 inputs", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    // bytes in place (weights_block8.wgsl: unsigned values where they sit, the input scaled once), SwiftShader's default now
    { name: "rows 4, bytes in place (4 invocations a workgroup)", code: kernelSource(library + rowsLibrary, { ...constants, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, bytes in place, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...constants, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    // int8 inputs unpacked once a block for the bytes in place (weights_int8.wgsl x_int8_placed), SwiftShader's default now
    { name: "rows 4, bytes in place, int8 inputs unpacked (4 invocations a workgroup)", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, bytes in place, int8 inputs unpacked, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    // the matrix packed in groups of 8 rows whose blocks interleave (tuning.weightRowGroup): an invocation's 8 rows one stream
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup, rows in groups of 8", code: kernelSource(library + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8, ROW_GROUP: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    // the quants in a texture (tuning.weightTexels): 16 bytes a fetch
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup, rows in groups of 8, quants as texels (webkv's decode default)", code: kernelSource(texelsLibrary + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8, ROW_GROUP: 8, WEIGHT_TEXELS_BINDING: 7 }), rowsPerInvocation: 8, workgroupSize: 8, texels: true },
  ];
  const q4Constants = { ...constants, WEIGHT_FORMAT: GgmlType.Q4_0 };
  const q4 = [
    { name: "rows 4 (f32 inputs)", code: kernelSource(library + rowsLibrary, { ...q4Constants, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, int8 inputs", code: kernelSource(library + rowsLibrary, { ...q4Constants, ...int8, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, bytes in place", code: kernelSource(library + rowsLibrary, { ...q4Constants, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, bytes in place, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...q4Constants, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    { name: "rows 4, bytes in place, int8 inputs unpacked", code: kernelSource(library + rowsLibrary, { ...q4Constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 4, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 4 },
    { name: "rows 4, bytes in place, int8 inputs unpacked, 16 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...q4Constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 16, ROWS_PER_INVOCATION: 4 }), rowsPerInvocation: 4, workgroupSize: 16 },
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup", code: kernelSource(library + rowsLibrary, { ...q4Constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    // the matrix packed in groups of 8 rows whose blocks interleave (tuning.weightRowGroup): an invocation's 8 rows one stream
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup, rows in groups of 8", code: kernelSource(library + rowsLibrary, { ...q4Constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8, ROW_GROUP: 8 }), rowsPerInvocation: 8, workgroupSize: 8 },
    { name: "rows 8, bytes in place, int8 inputs unpacked, 8 invocations a workgroup, rows in groups of 8, quants as texels (webkv's decode default)", code: kernelSource(texelsLibrary + rowsLibrary, { ...q4Constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8, ROW_GROUP: 8, WEIGHT_TEXELS_BINDING: 7 }), rowsPerInvocation: 8, workgroupSize: 8, texels: true },
  ];
  return [...q8.map((k) => ({ ...k, format: "Q8_0" as const })), ...q4.map((k) => ({ ...k, format: "Q4_0" as const }))];
}

/** webkv's Q8_0 decode kernel (int8 inputs in place, 8 rows × 8 invocations, quants in buffers) for [3072 × 576] matrices packed
 *  row by row and in groups of 8 rows (tuning.weightRowGroup), as matmul.ts builds it. */
function streamingKernels(): { name: string; code: string }[] {
  const code = (rowGroup: number) =>
    kernelSource(library + rowsLibrary, { ...constants, ...int8, BYTES_IN_PLACE: true, WORKGROUP_SIZE: 8, ROWS_PER_INVOCATION: 8, ROW_GROUP: rowGroup });
  return [{ name: "rows one by one", code: code(1) }, { name: "rows in groups of 8", code: code(8) }];
}

interface Micro {
  empty_dispatch_ms: { one_workgroup: number; sixty_four_workgroups: number };
  copy: { bytes: number; ms: number; GB_s_read_plus_write: number };
  f32_matvec_row_per_invocation: { rows: number; cols: number; ms: number; GB_s: number; Gweights_s: number };
  q8_0_matvec: Record<string, { rows: number; cols: number; ms: number; GB_s: number; Gweights_s: number }>;
  webkv_decode_matmul: Record<string, { format: "Q8_0" | "Q4_0"; rows: number; cols: number; ms: number; GB_s: number; Gweights_s: number }>;
  webkv_streaming: Record<string, { matrices: number; rows: number; cols: number; ms: number; Gweights_s: number }>;
  texture_fetch: Record<string, { rows: number; cols: number; ms: number; Gweights_s: number }>;
  read_floor: Record<string, { bytes: number; ms: number; GB_s: number }>;
}

// ---- 2 and 3. webkv's decode step, and wllama beside it -----------------------------------------------------

const smolShape = { ...SMOLLM2_135M_SHAPE, contextLength: 2048 };
const models = [
  { name: "stories260K F32", type: GgmlType.F32, path: async () => join(modelsDir, "stories260K.gguf"), prompt: 32, decode: 64, quantized: false },
  { name: "SmolLM2-135M-shape Q8_0", type: GgmlType.Q8_0, path: () => writeSynthetic(dir, "smol-q8_0", smolShape, GgmlType.Q8_0, 5), prompt: 16, decode: 8, byteTokens: SYNTHETIC_BYTE_TOKENS, quantized: true },
  { name: "SmolLM2-135M-shape Q4_0", type: GgmlType.Q4_0, path: () => writeSynthetic(dir, "smol-q4_0", smolShape, GgmlType.Q4_0, 5), prompt: 16, decode: 8, byteTokens: SYNTHETIC_BYTE_TOKENS, quantized: true },
];

interface StepProfile {
  weight_bytes: number;
  dispatches_per_step: number;
  syncs_per_step: number;
  readback_bytes_per_step: number;
  /** GPU milliseconds per decode step, by kernel kind (timestamp queries; their own passes add overhead). */
  gpu_ms_per_step: Record<string, number>;
}

async function profileDecode(session: BrowserSession, path: string, promptText: string, decode: number): Promise<StepProfile> {
  const loaded = await session.call<LoadResult>("load", { url: session.publishFile(path), options: { contextSize: 512 } });
  try {
    // dispatches, syncs and readback of a decode step, unprofiled (profiling adds a sync: the timestamps' readback)
    await session.call("generate", { modelId: loaded.modelId, prompt: promptText, maxTokens: 3, ignoreEos: true });
    const counters = await session.call<{ last: { dispatches: number; syncs: number; readbackBytes: number } }>("counters", { modelId: loaded.modelId });
    await session.call("profile", { modelId: loaded.modelId, enable: true });
    // the prompt's prefill is profiled too: take it away before the decode steps
    await session.call("generate", { modelId: loaded.modelId, prompt: promptText, maxTokens: 1, ignoreEos: true });
    await session.call("profile", { modelId: loaded.modelId });
    const reply = await session.call<{ output_ids: number[] }>("generate", { modelId: loaded.modelId, prompt: promptText, maxTokens: decode + 1, ignoreEos: true });
    const profile = await session.call<Record<string, number>>("profile", { modelId: loaded.modelId });
    const steps = reply.output_ids.length; // one prefill (with the first token) + decode steps; the prefill's share is small for a short prompt
    return {
      weight_bytes: loaded.memory.weights.live,
      dispatches_per_step: counters.last.dispatches,
      syncs_per_step: counters.last.syncs,
      readback_bytes_per_step: counters.last.readbackBytes,
      gpu_ms_per_step: Object.fromEntries(Object.entries(profile).map(([kind, ms]) => [kind, ms / steps])),
    };
  } finally {
    await session.call("unload", { modelId: loaded.modelId });
  }
}

const session = await BrowserSession.start({ crossOriginIsolated: true });
let micro: Micro;
let adapter = { vendor: "", architecture: "", description: "" };
const runs: { model: string; peer: string; round: number; measurement?: Measurement; error?: string }[] = [];
const profiles: Record<string, StepProfile> = {};
try {
  adapter = await session.call("adapter");
  micro = (await session.page.evaluate(`(${MICRO})(${JSON.stringify(webkvKernels())}, ${JSON.stringify(streamingKernels())})`)) as Micro;
  console.error(JSON.stringify(micro));
  const basePeers = [webkvPeer(session, "webkv", {}), webkvPeer(session, "webkv row kernel", { tuning: { matmul: { kind: "row" }, decodeMatmul: { kind: "row" } } }), wllamaPeer(session, 1)];
  // quantized models: also the decode on f32 inputs (tuning.int8Activations off: SwiftShader's default before int8
  // inputs unpacked in place)
  const f32Inputs = webkvPeer(session, "webkv f32 inputs", { tuning: { int8Activations: false } });
  for (const m of models) {
    const peers = m.quantized ? [...basePeers.slice(0, 2), f32Inputs, basePeers[2]!] : basePeers;
    const path = await m.path();
    const promptText = (await promptTexts(session, path, [m.prompt])).get(m.prompt)!;
    profiles[m.name] = await profileDecode(session, path, promptText, m.decode);
    console.error(JSON.stringify({ model: m.name, profile: profiles[m.name] }));
    for (let round = 1; round <= rounds; round++) {
      for (const peer of peers) {
        const run: (typeof runs)[number] = { model: m.name, peer: peer.name, round };
        try {
          run.measurement = await peer.run(path, promptText, m.prompt, m.decode, () => undefined, m.byteTokens);
        } catch (error) {
          run.error = (error as Error).message.split("\n")[0];
        }
        runs.push(run);
        console.error(JSON.stringify(run));
      }
    }
  }
} finally {
  await session.close();
}

// ---- 4. the ceilings ------------------------------------------------------------------------------------------

/** The median of one rate over a model's rounds with one peer. */
const rateMedian = (model: string, peer: string, rate: "decode_tok_s" | "prefill_tok_s") =>
  median(runs.filter((r) => r.model === model && r.peer === peer && r.measurement).map((r) => r.measurement![rate]));
/** The best weights-per-second any matvec of this weight type reached in the micro benchmark. */
const bestRate = (type: GgmlType) => type === GgmlType.F32 ? micro!.f32_matvec_row_per_invocation.Gweights_s
  : Math.max(...[...(type === GgmlType.Q8_0 ? Object.values(micro!.q8_0_matvec) : []), ...Object.values(micro!.webkv_decode_matmul).filter((k) => k.format === ggmlTypeName(type))].map((k) => k.Gweights_s));
const bytesPerWeight = (type: GgmlType) => GGML_TYPE_LAYOUT[type].blockBytes / GGML_TYPE_LAYOUT[type].blockElements;
const floorMs = micro!.empty_dispatch_ms.one_workgroup;
/** The fastest any kernel read the Q8_0 matrix's bytes, doing nothing else (bytes a second). */
const readFloorBytesPerSecond = Math.max(...Object.values(micro!.read_floor).map((k) => k.GB_s)) * 1e9;
const rows = models.map((m) => {
  const p = profiles[m.name]!;
  const webkv = rateMedian(m.name, "webkv", "decode_tok_s");
  const wllama = rateMedian(m.name, "wllama 1t", "decode_tok_s");
  const rowDecode = rateMedian(m.name, "webkv row kernel", "decode_tok_s");
  const f32InputsDecode = m.quantized ? rateMedian(m.name, "webkv f32 inputs", "decode_tok_s") : NaN;
  const dispatchCeiling = 1000 / (p.dispatches_per_step * floorMs);
  const weightCeiling = 1000 / ((p.weight_bytes / bytesPerWeight(m.type)) / (bestRate(m.type) * 1e6));
  const readCeiling = readFloorBytesPerSecond / p.weight_bytes;
  const gpuMs = Object.values(p.gpu_ms_per_step).reduce((a, b) => a + b, 0);
  return {
    model: m.name,
    webkv_decode_tok_s: webkv,
    webkv_row_kernel_decode_tok_s: rowDecode,
    rows_over_row: webkv / rowDecode,
    webkv_f32_inputs_decode_tok_s: f32InputsDecode,
    over_f32_inputs: webkv / f32InputsDecode,
    best_matvec_gweights_s: bestRate(m.type),
    webkv_prefill_tok_s: rateMedian(m.name, "webkv", "prefill_tok_s"),
    webkv_row_kernel_prefill_tok_s: rateMedian(m.name, "webkv row kernel", "prefill_tok_s"),
    wllama_1t_prefill_tok_s: rateMedian(m.name, "wllama 1t", "prefill_tok_s"),
    wllama_1t_decode_tok_s: wllama,
    ratio: webkv / wllama,
    step_ms: 1000 / webkv,
    gpu_ms_per_step: gpuMs,
    dispatches_per_step: p.dispatches_per_step,
    weight_mib: p.weight_bytes / 2 ** 20,
    ceiling_dispatch_floor_tok_s: dispatchCeiling,
    ceiling_best_matvec_tok_s: weightCeiling,
    ceiling_ratio: Math.min(dispatchCeiling, weightCeiling) / wllama,
    ceiling_read_floor_tok_s: readCeiling,
    read_ceiling_ratio: readCeiling / wllama,
  };
});

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "—");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; ${machineNote(adapter)}`;
const topKinds = (model: string) => {
  const kinds = Object.entries(profiles[model]!.gpu_ms_per_step).sort((a, b) => b[1] - a[1]);
  const total = kinds.reduce((sum, [, ms]) => sum + ms, 0);
  return kinds.slice(0, 6).map(([k, ms]) => `${k} ${f((100 * ms) / total, 0)}%`).join(", ");
};
const markdown = [
  "# What bounds decode on SwiftShader",
  "",
  `Machine: ${machine}. ${rounds} interleaved rounds (webkv, webkv with the row kernel, for the quantized models webkv with f32 inputs, wllama 1t) per model; medians. "webkv" runs its matmuls with the rows kernel (4 rows an invocation in decode, 8 in prefill; Q8_0/Q4_0 bytes read in place; a decode matmul's input quantized to int8 blocks and unpacked once a block for its rows, 8 of them an invocation, 8 invocations a workgroup), "row kernel" with the one-row kernel it replaced, "f32 inputs" with the decode input left f32 (tuning.int8Activations off, the default before).`,
  "",
  "## The adapter's floor (raw WGSL kernels, median of 5 submissions)",
  "",
  markdownTable(["measure", "value"], [
    ["empty dispatch, 1 workgroup", `${f(micro!.empty_dispatch_ms.one_workgroup * 1000, 0)} µs`],
    ["empty dispatch, 64 workgroups", `${f(micro!.empty_dispatch_ms.sixty_four_workgroups * 1000, 0)} µs`],
    [`vec4 copy kernel (${micro!.copy.bytes / 2 ** 20} MiB)`, `${f(micro!.copy.GB_s_read_plus_write)} GB/s read + write`],
    [`f32 matvec ${micro!.f32_matvec_row_per_invocation.rows}², a row per invocation`, `${f(micro!.f32_matvec_row_per_invocation.GB_s)} GB/s (${f(micro!.f32_matvec_row_per_invocation.Gweights_s, 3)} G weights/s)`],
    ...Object.entries(micro!.q8_0_matvec).map(([name, k]) => [`Q8_0 matvec ${k.rows}×${k.cols}, ${name.replaceAll("_", " ")}`, `${f(k.GB_s, 3)} GB/s (${f(k.Gweights_s, 3)} G weights/s)`]),
    ...Object.entries(micro!.webkv_decode_matmul).map(([name, k]) => [`webkv's ${k.format} decode matmul ${k.rows}×${k.cols}, ${name.slice(k.format.length + 1)}`, `${f(k.GB_s, 3)} GB/s (${f(k.Gweights_s, 3)} G weights/s)`]),
    ...Object.entries(micro!.webkv_streaming).map(([name, k]) => [`webkv's Q8_0 decode matmul over ${k.matrices} distinct ${k.rows}×${k.cols} matrices (${f((k.matrices * k.rows * k.cols * 34) / 32 / 2 ** 20, 0)} MiB, one dispatch each), ${name}`, `${f(k.Gweights_s, 3)} G weights/s`]),
    ...Object.entries(micro!.texture_fetch).map(([name, k]) => [`Q8_0 matvec ${k.rows}×${k.cols} (rows in groups of 8, 8 rows × 8 invocations, int8 inputs in place), quants read as ${name}`, `${f(k.Gweights_s, 3)} G weights/s`]),
    ...Object.entries(micro!.read_floor).map(([name, k]) => [`read floor: the Q8_0 matrix's ${k.bytes / 2 ** 20 < 1 ? `${f(k.bytes / 1024, 0)} KiB` : `${f(k.bytes / 2 ** 20, 1)} MiB`} read and XORed, ${name.replaceAll("_", " ")}`, `${f(k.GB_s, 3)} GB/s`]),
  ]),
  "",
  "## webkv's decode step against the floor",
  "",
  markdownTable(
    ["model", "webkv tok/s", "webkv row kernel tok/s", "webkv / row kernel", "webkv f32 inputs tok/s", "webkv / f32 inputs", "wllama 1t tok/s", "webkv / wllama", "step ms", "GPU ms (profiled run)", "dispatches", "weights MiB", "best matvec of its format, G weights/s", "ceiling: dispatch floor tok/s", "ceiling: best matvec tok/s", "best ceiling / wllama", "ceiling: weights at the read floor tok/s", "read ceiling / wllama"],
    rows.map((r) => [r.model, f(r.webkv_decode_tok_s, 1), f(r.webkv_row_kernel_decode_tok_s, 1), f(r.rows_over_row), f(r.webkv_f32_inputs_decode_tok_s, 1), f(r.over_f32_inputs), f(r.wllama_1t_decode_tok_s, 1), f(r.ratio), f(r.step_ms, 1), f(r.gpu_ms_per_step, 1), String(r.dispatches_per_step), f(r.weight_mib, 1), f(r.best_matvec_gweights_s, 3), f(r.ceiling_dispatch_floor_tok_s, 0), f(r.ceiling_best_matvec_tok_s, 1), f(r.ceiling_ratio), f(r.ceiling_read_floor_tok_s, 1), f(r.read_ceiling_ratio)]),
  ),
  "",
  "Prefill of the same prompt (tok/s, medians; a short prompt: stories260K's prompt is 32 tokens, the SmolLM2 shapes' 19):",
  "",
  markdownTable(["model", "webkv", "webkv row kernel", "webkv / row kernel", "wllama 1t", "webkv / wllama"],
    rows.map((r) => [r.model, f(r.webkv_prefill_tok_s, 1), f(r.webkv_row_kernel_prefill_tok_s, 1), f(r.webkv_prefill_tok_s / r.webkv_row_kernel_prefill_tok_s), f(r.wllama_1t_prefill_tok_s, 1), f(r.webkv_prefill_tok_s / r.wllama_1t_prefill_tok_s)])),
  "",
  "Share of a decode step's GPU time by kernel kind (largest first; timestamp queries around every kernel slow the",
  "profiled run, so its milliseconds are above the unprofiled step's): " + models.map((m) => `${m.name}: ${topKinds(m.name)}`).join("; ") + ".",
  "",
  "Reading: a step cannot take less than its dispatches × the empty-dispatch time, whatever the kernels do; nor can a",
  "weight-heavy model's step take less than its weights ÷ the best rate (weights a second) any matvec of their format reached above. Where",
  "`best ceiling / wllama` is below a target ratio, no kernel of these shapes reaches the target on this adapter. The read floor is",
  "shape-free: no kernel, whatever its math, reads the weight bytes faster than kernels that do nothing but read them, so a",
  "`read ceiling / wllama` near a target leaves the target no room for the work a matmul does on what it reads (unpacking, the",
  "input's loads, the products), and the other kernels of the step.",
].join("\n");

writeResults("swiftshader-profile", { machine, adapter, rounds, micro: micro!, profiles, runs, rows }, markdown);
