// A CPU reader of the KV pool's bytes, written from the layout in src/kv/formats.ts: decodes any
// (block, K|V, head, slot, dim) the way the attention kernels should. Tests compare the GPU's attention over
// quantized KV with attention over the values this decoder reads out of the same pool.

import { f16ToF32 } from "../../src/gguf/quant.js";
import { blockLayout, decodeScaleByte, type KvCacheFormat, type SectionLayout } from "../../src/kv/formats.js";

export interface PoolView {
  words: Uint32Array;
  blockSize: number;
  kvHeads: number;
  headDim: number;
  format: KvCacheFormat;
  tailOffsetWords: number;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function wordAsFloat(word: number): number {
  u32[0] = word;
  return f32[0]!;
}

function byteAt(view: PoolView, wordBase: number, byteIndex: number): number {
  return (view.words[wordBase + Math.floor(byteIndex / 4)]! >>> (8 * (byteIndex % 4))) & 255;
}

/** The decoded value of (head, slot, d) in one section of block `block`. */
export function decodeBlockValue(view: PoolView, block: number, isValue: boolean, head: number, slot: number, d: number): number {
  const layout = blockLayout(view, view.format);
  const section: SectionLayout = isValue ? layout.v : layout.k;
  const base = block * layout.blockWords + (isValue ? layout.k.words : 0);
  const value = (head * view.blockSize + slot) * view.headDim + d;
  const perWord = section.valuesPerWord;
  const word = view.words[base + Math.floor(value / perWord)]!;
  const bits = 32 / perWord;
  const raw = (word >>> (bits * (value % perWord))) & (bits === 32 ? 0xffffffff : (1 << bits) - 1);
  if (section.type === "f32") return wordAsFloat(word);
  if (section.type === "f16") return f16ToF32(raw);
  const channel = head * view.headDim + d;
  const group = section.grouping === "token" ? Math.floor(channel / section.groupSize) * view.blockSize + slot : channel;
  const scale = decodeScaleByte(byteAt(view, base + section.scaleOffset, group));
  if (section.type === "int8") return (raw >= 128 ? raw - 256 : raw) * scale;
  const zeroByte = byteAt(view, base + section.zeroOffset, group);
  const zero = zeroByte >= 128 ? zeroByte - 256 : zeroByte; // signed
  return (raw - zero) * scale;
}

/** The f32 value of (head, slot, d) in a sequence's tail. */
export function decodeTailValue(view: PoolView, tail: number, isValue: boolean, head: number, slot: number, d: number): number {
  const tailWords = 2 * view.kvHeads * view.blockSize * view.headDim;
  const at = view.tailOffsetWords + tail * tailWords + (((isValue ? view.kvHeads : 0) + head) * view.blockSize + slot) * view.headDim + d;
  return wordAsFloat(view.words[at]!);
}

/** The group scale a value was quantized with (0 for float formats). */
export function groupScale(view: PoolView, block: number, isValue: boolean, head: number, slot: number, d: number): number {
  const layout = blockLayout(view, view.format);
  const section = isValue ? layout.v : layout.k;
  if (section.type === "f32" || section.type === "f16") return 0;
  const base = block * layout.blockWords + (isValue ? layout.k.words : 0);
  const channel = head * view.headDim + d;
  const group = section.grouping === "token" ? Math.floor(channel / section.groupSize) * view.blockSize + slot : channel;
  return decodeScaleByte(byteAt(view, base + section.scaleOffset, group));
}
