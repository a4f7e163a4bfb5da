// The paged KV cache as the kernels see it (a library: include it before a kernel that reads or writes KV).
//
// One binding per layer, `kv_pool: array<u32>`, holds the layer's blocks. A block holds BLOCK_SIZE tokens:
//   [ K: KV_HEADS × BLOCK_SIZE × HEAD_DIM | V: KV_HEADS × BLOCK_SIZE × HEAD_DIM ]   (head-major, so one head's
// keys within a block are contiguous). A sequence's token at position p lives in block
// block_tables[seq.block_table_offset + p / BLOCK_SIZE], slot p % BLOCK_SIZE.
// KV_FORMAT 0 = f32 (one word per value).

const KV_HEAD_WORDS: u32 = BLOCK_SIZE * HEAD_DIM;
const KV_SECTION_WORDS: u32 = KV_HEADS * KV_HEAD_WORDS;
const KV_BLOCK_WORDS: u32 = 2u * KV_SECTION_WORDS;

fn kv_word_index(block: u32, is_value: bool, head: u32, slot: u32) -> u32 {
  return block * KV_BLOCK_WORDS + select(0u, KV_SECTION_WORDS, is_value) + head * KV_HEAD_WORDS + slot * HEAD_DIM;
}

/// The physical block holding position `position` of the sequence whose table starts at `table_offset`.
fn kv_block_of(table_offset: u32, position: u32) -> u32 {
  return block_tables[table_offset + position / BLOCK_SIZE];
}

/// 4 consecutive values (dims d4·4 … d4·4+3) of one head's key or value at a physical position.
fn kv_load4(block: u32, is_value: bool, head: u32, slot: u32, d4: u32) -> vec4<f32> {
  let at = kv_word_index(block, is_value, head, slot) + d4 * 4u;
  return bitcast<vec4<f32>>(vec4<u32>(kv_pool[at], kv_pool[at + 1u], kv_pool[at + 2u], kv_pool[at + 3u]));
}
