// The constants every KV-reading or -writing kernel is compiled with (shaders/kv_cache.wgsl): geometry,
// the block layout of the K and V formats (src/kv/formats.ts), and where the tails begin; and the WGSL
// library the attention kernels read the cache with.

import int8Wgsl from "../../shaders/int8.wgsl?raw";
import kvCacheWgsl from "../../shaders/kv_cache.wgsl?raw";
import kvReadWgsl from "../../shaders/kv_read.wgsl?raw";
import kvSectionWgsl from "../../shaders/kv_section.wgsl?raw";
import { f32, type BufferBinding, type WgslConstant } from "../gpu/pipelines.js";
import { blockLayout, KV_TYPE_CODE, type KvCacheFormat, type SectionLayout } from "../kv/formats.js";

export interface KvShape {
  blockSize: number;
  kvHeads: number;
  headDim: number;
  format: KvCacheFormat;
  /** Blocks per layer: the tails start after them. */
  numBlocks: number;
}

export interface AttentionShape extends KvShape {
  qHeads: number;
  /** Sliding window in tokens; 0 = full causal attention. */
  window: number;
  /** Query scale (default 1/√head_dim). */
  scale?: number;
  /** Scores become softcap·tanh(score/softcap) when > 0 (Gemma 2). */
  softcap?: number;
}

function sectionConstants(prefix: "K" | "V", s: SectionLayout): Record<string, number | boolean> {
  return {
    [`${prefix}_TYPE`]: KV_TYPE_CODE[s.type],
    [`${prefix}_TOKEN_GROUPS`]: s.grouping === "token",
    [`${prefix}_GROUP`]: Math.max(1, s.groupSize),
    [`${prefix}_SCALE_OFFSET`]: s.scaleOffset,
    [`${prefix}_ZERO_OFFSET`]: s.zeroOffset,
    [`${prefix}_WORDS`]: s.words,
  };
}

/**
 * kv_cache.wgsl, the section reader for keys and for values (kv_section.wgsl's template written out with K_ and
 * V_), then kv_read.wgsl: what an attention kernel includes before its own file.
 */
export function kvReadLibrary(): string {
  return KV_READ_LIBRARY;
}

const section = (prefix: "K" | "V") => kvSectionWgsl.replace(/\bS_/g, `${prefix}_`).replace(/\bkv_s_/g, `kv_${prefix.toLowerCase()}_`);
const KV_READ_LIBRARY = [int8Wgsl, kvCacheWgsl, section("K"), section("V"), kvReadWgsl].join("\n");

export function kvConstants(shape: KvShape): Record<string, number | boolean> {
  const layout = blockLayout(shape, shape.format);
  return {
    BLOCK_SIZE: shape.blockSize,
    KV_HEADS: shape.kvHeads,
    HEAD_DIM: shape.headDim,
    KV_BLOCK_WORDS: layout.blockWords,
    KV_TAIL_OFFSET: shape.numBlocks * layout.blockWords,
    ...sectionConstants("K", layout.k),
    ...sectionConstants("V", layout.v),
  };
}

export function attentionConstants(shape: AttentionShape): Record<string, WgslConstant> {
  return {
    ...kvConstants(shape),
    Q_HEADS: shape.qHeads,
    WINDOW: shape.window,
    SCALE: f32(shape.scale ?? 1 / Math.sqrt(shape.headDim)),
    SOFTCAP: f32(shape.softcap ?? 0),
  };
}

/** What both attention kernels bind (their scratch aside), in binding order around it. */
export interface AttentionBuffers {
  step: GPUBuffer;
  tokens: GPUBuffer;
  seqs: GPUBuffer;
  blockTables: GPUBuffer;
  kvPool: BufferBinding;
  q: BufferBinding;
  out: GPUBuffer;
  /** This step's k rows then v rows, in full precision (the attention reads the step's own tokens from here). */
  kvNew: { buffer: GPUBuffer; vOffsetBytes: number };
}

/**
 * This step's k and v rows share one buffer (the attention kernels read both through one binding): k rows
 * of `rowsBytes` at 0, v rows at the first offset after them that a binding may start at.
 */
export function stepKvValueOffset(rowsBytes: number, offsetAlignment: number): number {
  return Math.ceil(rowsBytes / offsetAlignment) * offsetAlignment;
}

/** The kv_new buffer as the attention kernels bind it, and its k and v rows as the writers bind them. */
export function stepKvRows(buffer: GPUBuffer, rowsBytes: number, vOffsetBytes: number) {
  return {
    kvNew: { buffer, vOffsetBytes },
    k: { buffer, offset: 0, size: rowsBytes } satisfies BufferBinding,
    v: { buffer, offset: vOffsetBytes, size: rowsBytes } satisfies BufferBinding,
  };
}

/** Bindings 0…8 of attention_naive.wgsl and attention_flash.wgsl; `scratch` is the scores or the partials. */
export function attentionBindings(b: AttentionBuffers, scratch: GPUBuffer): BufferBinding[] {
  return [b.step, b.tokens, b.seqs, b.blockTables, b.kvPool, b.q, scratch, b.out, b.kvNew.buffer];
}
