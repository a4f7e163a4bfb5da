// Rotary position embedding in GGUF's llama layout (ggml "normal" mode): within each head, the adjacent
// pair (v[2i], v[2i+1]) turns by the angle θ(position, i) for i < ROPE_DIM/2; the rest of the head is
// left as it is. cos θ and sin θ come precomputed per token (src/model/rope.ts, ggml's float sequence).
//
//   q: [num_tokens, Q_HEADS·HEAD_DIM]   k: [num_tokens, KV_HEADS·HEAD_DIM]   cos_sin: [num_tokens, ROPE_DIM/2]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> cos_sin: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> q: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> k: array<vec2<f32>>;

const PAIRS: u32 = ROPE_DIM / 2u;
const HEAD_PAIRS: u32 = HEAD_DIM / 2u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x % PAIRS;
  let head = gid.x / PAIRS; // q heads first, then k heads
  let t = gid.y;
  if (head >= Q_HEADS + KV_HEADS || t >= step.num_tokens) {
    return;
  }
  let cs = cos_sin[t * PAIRS + pair];
  if (head < Q_HEADS) {
    let at = (t * Q_HEADS + head) * HEAD_PAIRS + pair;
    let v = q[at];
    q[at] = vec2<f32>(v.x * cs.x - v.y * cs.y, v.x * cs.y + v.y * cs.x);
  } else {
    let at = (t * KV_HEADS + head - Q_HEADS) * HEAD_PAIRS + pair;
    let v = k[at];
    k[at] = vec2<f32>(v.x * cs.x - v.y * cs.y, v.x * cs.y + v.y * cs.x);
  }
}
