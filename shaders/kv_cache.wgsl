// The paged KV cache as the kernels see it (a library: include it before a kernel that reads or writes KV).
// Layout and formats: src/kv/formats.ts.
//
// One binding per layer, `kv_pool: array<u32>`: NUM_BLOCKS blocks of KV_BLOCK_WORDS, then (quantized formats)
// one full-precision tail per sequence slot. A block holds BLOCK_SIZE tokens, K section then V section; in a
// section, values are token-major within a head: value (head, slot, d) is number (head·BLOCK_SIZE + slot)·HEAD_DIM + d.
// A sequence's position p lives in block block_tables[seq.block_table_offset + p / BLOCK_SIZE], slot p % BLOCK_SIZE —
// except, for a quantized section, positions past the last full block (p ≥ ⌊context_len / BLOCK_SIZE⌋·BLOCK_SIZE),
// which are still in the sequence's tail: f32 [tail][K|V][head][slot][d] from KV_TAIL_OFFSET.

const KV_F32: u32 = 0u;
const KV_F16: u32 = 1u;
const KV_INT8: u32 = 2u;
const KV_INT4: u32 = 3u;

const K_QUANTIZED: bool = K_TYPE >= KV_INT8;
const V_QUANTIZED: bool = V_TYPE >= KV_INT8;
const KV_TAIL_WORDS: u32 = 2u * KV_HEADS * BLOCK_SIZE * HEAD_DIM;
// Each section: where it starts in a block (words), and whether it holds values (kv_tail_index's is_value).
const K_OFFSET: u32 = 0u;
const V_OFFSET: u32 = K_WORDS;
const K_IS_VALUE: bool = false;
const V_IS_VALUE: bool = true;

/// The physical block holding position `position` of the sequence whose table starts at `table_offset`.
fn kv_block_of(table_offset: u32, position: u32) -> u32 {
  return block_tables[table_offset + position / BLOCK_SIZE];
}

/// Scale byte b → 2^((b − 128) / 8); 0 → 0. Built from bits — 2^e · 2^(f/8) with e = ⌊(b − 128)/8⌋ and
/// f = (b − 128) mod 8 — so the attention's inner loop pays no exp2 (the 8 mantissas are 2^(f/8) in f32).
fn kv_scale(byte: u32) -> f32 {
  let x = i32(byte) - 128;
  let e = x >> 3u;
  let f = u32(x & 7);
  let b0 = (f & 1u) == 1u;
  let b1 = (f & 2u) == 2u;
  let low = select(select(0x000000u, 0x0b95c2u, b0), select(0x1837f0u, 0x25fed7u, b0), b1);
  let high = select(select(0x3504f3u, 0x45672au, b0), select(0x5744fdu, 0x6ac0c7u, b0), b1);
  let mantissa = select(low, high, (f & 4u) == 4u);
  return select(bitcast<f32>((u32(e + 127) << 23u) | mantissa), 0.0, byte == 0u);
}

fn kv_scales4(word: u32) -> vec4<f32> {
  return vec4<f32>(kv_scale(word & 255u), kv_scale((word >> 8u) & 255u), kv_scale((word >> 16u) & 255u), kv_scale(word >> 24u));
}

fn kv_byte_at(byte_index: u32, base: u32) -> u32 {
  return (kv_pool[base + byte_index / 4u] >> (8u * (byte_index % 4u))) & 255u;
}

// Int4 values without shifts, as shaders/int8.wgsl's int8x4 (included before this file) does for bytes: masked in
// place, converted (exact), scaled back by 2^−s (exact).
const KV_NIBBLE_MASKS = vec4<i32>(0xf, 0xf0, 0xf00, 0xf000);
const KV_NIBBLE_SCALES = vec4<f32>(1.0, 1.0 / 16.0, 1.0 / 256.0, 1.0 / 4096.0);

/// Nibbles 0 … 3 of a word (bits 0–15) as unsigned values 0 … 15, lowest first.
fn kv_nibbles4(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word)) & KV_NIBBLE_MASKS) * KV_NIBBLE_SCALES;
}

/// 4 f32 values from words at … at+3 of the pool.
fn kv_f32x4(at: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(kv_pool[at], kv_pool[at + 1u], kv_pool[at + 2u], kv_pool[at + 3u]));
}

fn kv_tail_index(tail: u32, is_value: bool, head: u32, slot: u32) -> u32 {
  return KV_TAIL_OFFSET + tail * KV_TAIL_WORDS + ((select(0u, KV_HEADS, is_value) + head) * BLOCK_SIZE + slot) * HEAD_DIM;
}
