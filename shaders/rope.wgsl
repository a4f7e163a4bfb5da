// Rotary position embedding, in place on q and k. Within each head the first ROPE_DIM dims are rotated
// in pairs, the rest of the head is left as it is (partial rotary):
//   normal (ggml mode 0, Llama):           pair i = (v[2i], v[2i+1])
//   NeoX   (ggml mode 2, Qwen/Gemma/Phi):  pair i = (v[i], v[i + ROPE_DIM/2])
// each turned by the angle θ(position, i); cos θ and sin θ come precomputed per token (src/model/rope.ts,
// ggml's float sequence, magnitude corrections included).
//
//   q: [num_tokens, Q_HEADS·HEAD_DIM]   k: [num_tokens, KV_HEADS·HEAD_DIM]   cos_sin: [num_tokens, ROPE_DIM/2]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> cos_sin: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> k: array<f32>;

const PAIRS: u32 = ROPE_DIM / 2u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x % PAIRS;
  let head = gid.x / PAIRS; // q heads first, then k heads
  let t = gid.y;
  if (head >= Q_HEADS + KV_HEADS || t >= step.num_tokens) {
    return;
  }
  let cs = cos_sin[t * PAIRS + pair];
  let first = select(2u * pair, pair, NEOX);
  let second = select(2u * pair + 1u, pair + PAIRS, NEOX);
  if (head < Q_HEADS) {
    let base = (t * Q_HEADS + head) * HEAD_DIM;
    let x0 = q[base + first];
    let x1 = q[base + second];
    q[base + first] = x0 * cs.x - x1 * cs.y;
    q[base + second] = x0 * cs.y + x1 * cs.x;
  } else {
    let base = (t * KV_HEADS + head - Q_HEADS) * HEAD_DIM;
    let x0 = k[base + first];
    let x1 = k[base + second];
    k[base + first] = x0 * cs.x - x1 * cs.y;
    k[base + second] = x0 * cs.y + x1 * cs.x;
  }
}
