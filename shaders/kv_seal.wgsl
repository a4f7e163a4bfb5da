// Quantizes the KV blocks that fill up in this step (include kv_cache.wgsl first). Compiled once per
// quantized section (SEAL_VALUES false: K, true: V) with that section's format.
//
// A filling block's values come from two places: positions before this step from the sequence's
// full-precision tail, positions of this step from this step's k or v rows. One invocation owns whole words:
//   channel groups: CHANNELS_PER_INVOCATION channels (4 for int8, 8 for int4) over the block's BLOCK_SIZE tokens
//   token groups:   one group of GROUP channels for 4 consecutive slots (their 4 scale bytes share a word)
// int8 is symmetric: scale = max|x| / 127, q = round(x / scale) ∈ [−127, 127].
// int4 is asymmetric: scale = (max − min) / 15, zero = round(−min / scale) ∈ [−128, 127] (a signed byte, so
// groups that do not straddle 0 — a key channel's offset — keep their full resolution), q = round(x / scale) + zero ∈ [0, 15].
// Only an offset of more than 127 steps from 0 widens the scale until the zero fits.
// The scale is stored as a byte b with 2^((b − 128)/8) ≥ the exact scale, so nothing clips.
//   seals: [num_seals] × (sequence index, logical block)      src: [num_tokens, KV_HEADS·HEAD_DIM]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> seqs: array<SeqInfo>;
@group(0) @binding(2) var<storage, read> block_tables: array<u32>;
@group(0) @binding(3) var<storage, read> seals: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> src: array<f32>;
@group(0) @binding(5) var<storage, read_write> kv_pool: array<u32>;

const KIND: u32 = select(K_TYPE, V_TYPE, SEAL_VALUES);
const TOKEN_GROUPS: bool = select(K_TOKEN_GROUPS, V_TOKEN_GROUPS, SEAL_VALUES);
const GROUP: u32 = select(K_GROUP, V_GROUP, SEAL_VALUES);
const SCALE_OFFSET: u32 = select(K_SCALE_OFFSET, V_SCALE_OFFSET, SEAL_VALUES);
const ZERO_OFFSET: u32 = select(K_ZERO_OFFSET, V_ZERO_OFFSET, SEAL_VALUES);
const SECTION_OFFSET: u32 = select(0u, K_WORDS, SEAL_VALUES);
const CHANNELS: u32 = KV_HEADS * HEAD_DIM;
const CHANNELS_PER_INVOCATION: u32 = select(4u, 8u, KIND == KV_INT4);
const QMAX: f32 = select(127.0, 15.0, KIND == KV_INT4);

/// Value of channel c = head·HEAD_DIM + d at slot `slot` of logical block `logical` of `seq`.
fn value_at(seq: SeqInfo, logical: u32, channel: u32, slot: u32) -> f32 {
  let position = logical * BLOCK_SIZE + slot;
  let first_new = seq.context_len - seq.num_tokens;
  if (position < first_new) {
    let head = channel / HEAD_DIM;
    return bitcast<f32>(kv_pool[kv_tail_index(seq.tail, SEAL_VALUES, head, slot) + channel % HEAD_DIM]);
  }
  return src[(seq.first_token + position - first_new) * CHANNELS + channel];
}

/// The smallest scale byte whose value is ≥ `scale` (0 for a zero scale).
fn scale_byte(scale: f32) -> u32 {
  if (scale <= 0.0) {
    return 0u;
  }
  var byte = u32(clamp(ceil(8.0 * log2(scale)) + 128.0, 1.0, 255.0));
  // log2 may round low by an ulp: step up until the stored scale covers the exact one.
  if (byte < 255u && kv_scale(byte) < scale) {
    byte += 1u;
  }
  return byte;
}

/// Scale byte and zero (int4: a signed byte, stored as its low 8 bits) for a group spanning [lo, hi].
fn group_params(lo: f32, hi: f32) -> vec2<u32> {
  if (KIND == KV_INT8) {
    return vec2<u32>(scale_byte(max(abs(lo), abs(hi)) / QMAX), 0u);
  }
  let byte = scale_byte(max((hi - lo) / QMAX, max(lo / 128.0, -lo / 127.0)));
  let scale = kv_scale(byte);
  let zero = select(0, i32(clamp(round(-lo / scale), -128.0, 127.0)), scale > 0.0);
  return vec2<u32>(byte, u32(zero) & 255u);
}

fn quantize(x: f32, params: vec2<u32>) -> u32 {
  let scale = kv_scale(params.x);
  if (KIND == KV_INT8) {
    if (scale == 0.0) {
      return 0u;
    }
    return u32(i32(clamp(round(x / scale), -127.0, 127.0))) & 255u;
  }
  let zero = f32((i32(params.y) << 24u) >> 24u); // sign-extend the zero byte
  if (scale == 0.0) {
    return u32(clamp(zero, 0.0, QMAX));
  }
  return u32(clamp(round(x / scale) + zero, 0.0, QMAX));
}

/// Word index of the data word holding value (channel, slot) in the section starting at `base`.
fn data_word(base: u32, channel: u32, slot: u32) -> u32 {
  let value = ((channel / HEAD_DIM) * BLOCK_SIZE + slot) * HEAD_DIM + channel % HEAD_DIM;
  return base + value / select(4u, 8u, KIND == KV_INT4);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let unit = gid.x;
  let seal_index = gid.y;
  if (seal_index >= step.num_seals) {
    return;
  }
  let seal = seals[seal_index];
  let seq = seqs[seal.x];
  let logical = seal.y;
  let base = kv_block_of(seq.block_table_offset, logical * BLOCK_SIZE) * KV_BLOCK_WORDS + SECTION_OFFSET;
  let bits = 32u / select(4u, 8u, KIND == KV_INT4);

  if (!TOKEN_GROUPS) {
    // Channel groups: channels c0 … c0 + CHANNELS_PER_INVOCATION − 1, each over the block's tokens.
    if (unit >= CHANNELS / CHANNELS_PER_INVOCATION) {
      return;
    }
    let c0 = unit * CHANNELS_PER_INVOCATION;
    var params: array<vec2<u32>, 8>;
    for (var i = 0u; i < CHANNELS_PER_INVOCATION; i++) {
      var lo = 3.0e38;
      var hi = -3.0e38;
      for (var slot = 0u; slot < BLOCK_SIZE; slot++) {
        let x = value_at(seq, logical, c0 + i, slot);
        lo = min(lo, x);
        hi = max(hi, x);
      }
      params[i] = group_params(lo, hi);
    }
    for (var slot = 0u; slot < BLOCK_SIZE; slot++) {
      var word = 0u;
      for (var i = 0u; i < CHANNELS_PER_INVOCATION; i++) {
        word |= quantize(value_at(seq, logical, c0 + i, slot), params[i]) << (bits * i);
      }
      kv_pool[data_word(base, c0, slot)] = word;
    }
    for (var w = 0u; w < CHANNELS_PER_INVOCATION / 4u; w++) {
      var scales = 0u;
      var zeros = 0u;
      for (var i = 0u; i < 4u; i++) {
        scales |= params[w * 4u + i].x << (8u * i);
        zeros |= params[w * 4u + i].y << (8u * i);
      }
      kv_pool[base + SCALE_OFFSET + c0 / 4u + w] = scales;
      if (KIND == KV_INT4) {
        kv_pool[base + ZERO_OFFSET + c0 / 4u + w] = zeros;
      }
    }
    return;
  }

  // Token groups: group g of 4 consecutive slots.
  let quads = BLOCK_SIZE / 4u;
  if (unit >= (CHANNELS / GROUP) * quads) {
    return;
  }
  let g = unit / quads;
  let first_slot = (unit % quads) * 4u;
  var scales = 0u;
  var zeros = 0u;
  for (var i = 0u; i < 4u; i++) {
    let slot = first_slot + i;
    var lo = 3.0e38;
    var hi = -3.0e38;
    for (var c = g * GROUP; c < (g + 1u) * GROUP; c++) {
      let x = value_at(seq, logical, c, slot);
      lo = min(lo, x);
      hi = max(hi, x);
    }
    let params = group_params(lo, hi);
    scales |= params.x << (8u * i);
    zeros |= params.y << (8u * i);
    let per_word = 32u / bits;
    for (var c = g * GROUP; c < (g + 1u) * GROUP; c += per_word) {
      var word = 0u;
      for (var j = 0u; j < per_word; j++) {
        word |= quantize(value_at(seq, logical, c + j, slot), params) << (bits * j);
      }
      kv_pool[data_word(base, c, slot)] = word;
    }
  }
  let scale_word = (g * BLOCK_SIZE + first_slot) / 4u;
  kv_pool[base + SCALE_OFFSET + scale_word] = scales;
  if (KIND == KV_INT4) {
    kv_pool[base + ZERO_OFFSET + scale_word] = zeros;
  }
}
