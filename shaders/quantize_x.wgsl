// Activations quantized to int8 blocks, for the matmuls that multiply int8 weights (Q8_0, Q4_0) by int8 inputs
// with dot4I8Packed (shaders/matmul_rows.wgsl with INT8_X). One invocation per (token, 32-value block), as
// llama.cpp quantizes a matmul's input to q8_0 on the CPU:
//
//   d = max|x[t, block]| / 127        q[j] = round(x[t, 32·b + j] / d)  (0 where d = 0; ties to even)
//
//   x:  [n, COLS] f32
//   xq: [n, X_INT8_STRIDE] words per token: COLS/32 blocks of 8 words (4 int8 values each, value j in byte j % 4
//       of word j / 4), then the blocks' d (f32 bits), then their Σ q (i32 bits: Q4_0's −8 offset uses it),
//       padded to whole vec4s so a block's words are two vec4 loads.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> xq: array<u32>;

const BLOCKS: u32 = COLS / 32u;

fn abs_max4(v: vec4<f32>) -> f32 {
  let a = abs(v);
  return max(max(a.x, a.y), max(a.z, a.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = select(step.num_tokens, step.num_logit_rows, X_ROWS_ARE_LOGIT_ROWS);
  let b = gid.x;
  let t = gid.y;
  if (b >= BLOCKS || t >= n) {
    return;
  }
  let at = t * (COLS / 4u) + b * 8u;
  var amax = 0.0;
  for (var k = 0u; k < 8u; k++) {
    amax = max(amax, abs_max4(x[at + k]));
  }
  let d = amax / 127.0;
  let inverse = select(0.0, 1.0 / d, d > 0.0);
  let out = t * X_INT8_STRIDE;
  var sum = 0;
  for (var k = 0u; k < 8u; k++) {
    let q = vec4<i32>(round(x[at + k] * inverse));
    xq[out + b * 8u + k] = pack4xI8(q);
    sum += q.x + q.y + q.z + q.w;
  }
  xq[out + BLOCKS * 8u + b] = bitcast<u32>(d);
  xq[out + BLOCKS * 9u + b] = bitcast<u32>(sum);
}
