// KV cache formats: how one block stores its keys and values, and its scales. Pure layout arithmetic,
// shared by the GPU pool, the kernels' constants and the tests' CPU decoder.
//
// A block of B tokens holds a K section then a V section; each section is
//   data:   KV_HEADS × B × HEAD_DIM values, token-major within a head, packed into u32 words
//           (f32: 1 per word, f16: 2, int8: 4, int4: 8 — value i of a word at bits (32 / per-word)·i)
//   scales: one byte per quantization group (int8/int4), 4 per word
//   zeros:  one signed byte per group (int4 only: asymmetric, x ≈ (q − zero)·scale)
// Quantized groups are either
//   "token"   — one token's values over a group of G consecutive (head, dim) channels: G = 32 when the head
//               is wide enough, else whole heads joined until ~32 values (small heads are the hard case);
//   "channel" — one (head, dim) channel over the B tokens of the block (KIVI's scheme for keys).
// A scale byte b means 2^((b − 128) / 8) (b = 0: zero), rounded up so values never clip: 1 byte of scale
// per group instead of 2 keeps int8 within ~0.52× and int4 within ~0.3× of f16 even for head_dim 8.
// Quantized sections are written when their block seals (fills up): until then the newest partial block
// of each sequence lives in full precision in a per-sequence tail, as in KIVI.

export type KvValueType = "f32" | "f16" | "int8" | "int4";
export type KvGrouping = "token" | "channel";

export interface KvSectionFormat {
  type: KvValueType;
  /** Ignored for f32/f16. */
  grouping: KvGrouping;
}

export interface KvCacheFormat {
  k: KvSectionFormat;
  v: KvSectionFormat;
}

export interface KvGeometry {
  blockSize: number;
  kvHeads: number;
  headDim: number;
}

export const KV_TYPE_CODE: Record<KvValueType, number> = { f32: 0, f16: 1, int8: 2, int4: 3 };
export const VALUES_PER_WORD: Record<KvValueType, number> = { f32: 1, f16: 2, int8: 4, int4: 8 };

export function isQuantized(type: KvValueType): boolean {
  return type === "int8" || type === "int4";
}

export function hasTail(format: KvCacheFormat): boolean {
  return isQuantized(format.k.type) || isQuantized(format.v.type);
}

/** Values per quantization group along a token (token grouping). */
export function tokenGroupSize(g: KvGeometry): number {
  if (g.headDim >= 32) return [32, 16, 8].find((n) => g.headDim % n === 0) ?? g.headDim;
  let heads = 1;
  for (let h = 1; h <= g.kvHeads; h++) if (g.kvHeads % h === 0 && h * g.headDim <= 32) heads = h;
  return heads * g.headDim;
}

export interface SectionLayout {
  type: KvValueType;
  grouping: KvGrouping;
  valuesPerWord: number;
  /** Group size in values: along a token (token grouping) or the block size (channel grouping). */
  groupSize: number;
  /** Number of groups (= scale bytes) in the section. */
  groups: number;
  dataWords: number;
  scaleOffset: number;
  zeroOffset: number;
  words: number;
}

export class KvFormatError extends Error {
  readonly code = "bad_kv_format";
}

export function sectionLayout(g: KvGeometry, f: KvSectionFormat): SectionLayout {
  const values = g.kvHeads * g.blockSize * g.headDim;
  const valuesPerWord = VALUES_PER_WORD[f.type];
  const dataWords = values / valuesPerWord;
  if (!isQuantized(f.type)) {
    return { type: f.type, grouping: f.grouping, valuesPerWord, groupSize: 0, groups: 0, dataWords, scaleOffset: dataWords, zeroOffset: dataWords, words: dataWords };
  }
  const channels = g.kvHeads * g.headDim;
  let groupSize: number;
  let groups: number;
  if (f.grouping === "token") {
    groupSize = tokenGroupSize(g);
    if (g.blockSize % 4 !== 0) throw new KvFormatError(`${f.type} KV with token groups needs a block size that is a multiple of 4, got ${g.blockSize}`);
    if (groupSize % valuesPerWord !== 0) throw new KvFormatError(`${f.type} KV needs token groups of a multiple of ${valuesPerWord} values; head_dim ${g.headDim} gives ${groupSize}`);
    groups = (channels / groupSize) * g.blockSize;
  } else {
    const channelsPerInvocation = Math.max(4, valuesPerWord);
    if (g.headDim % channelsPerInvocation !== 0) throw new KvFormatError(`${f.type} KV with channel groups needs head_dim a multiple of ${channelsPerInvocation}, got ${g.headDim}`);
    groupSize = g.blockSize;
    groups = channels;
  }
  const groupWords = Math.ceil(groups / 4);
  const zeroWords = f.type === "int4" ? groupWords : 0;
  return {
    type: f.type, grouping: f.grouping, valuesPerWord, groupSize, groups, dataWords,
    scaleOffset: dataWords, zeroOffset: dataWords + groupWords, words: dataWords + groupWords + zeroWords,
  };
}

export interface BlockLayout {
  k: SectionLayout;
  v: SectionLayout;
  /** Words of one block (one layer): K section then V section. */
  blockWords: number;
  /** Words of one sequence's full-precision tail (one layer, K and V); 0 without quantized sections. */
  tailWords: number;
}

export function blockLayout(g: KvGeometry, format: KvCacheFormat): BlockLayout {
  const k = sectionLayout(g, format.k);
  const v = sectionLayout(g, format.v);
  return { k, v, blockWords: k.words + v.words, tailWords: hasTail(format) ? 2 * g.kvHeads * g.blockSize * g.headDim : 0 };
}

/** Throws a KvFormatError naming the constraint when the geometry cannot hold the format. */
export function validateKvFormat(g: KvGeometry, format: KvCacheFormat): void {
  if (g.headDim % 4 !== 0) throw new KvFormatError(`head_dim ${g.headDim} must be a multiple of 4`);
  blockLayout(g, format);
}

/**
 * Default grouping of bare "int8" / "int4": keys per channel, values per token (KIVI's split). Measured on
 * stories260K (head_dim 8), decode path, vs f32 KV: int8 K channel/V token 99.88% top-1, KL 5.6e-5 at 0.523× f16;
 * int8 per-token keys 98.75%; int4 K channel/V token 97.63% at 0.297×; int4 per-token keys 75.4%
 * (bench/results/kv-quality.md).
 */
export const DEFAULT_GROUPING: Record<"k" | "v", Record<"int8" | "int4", KvGrouping>> = {
  k: { int8: "channel", int4: "channel" },
  v: { int8: "token", int4: "token" },
};

export function parseKvSection(text: string, section: "k" | "v"): KvSectionFormat {
  const match = /^(f32|f16|int8|int4)(?:-(token|channel))?$/.exec(text.trim().toLowerCase());
  if (!match) throw new KvFormatError(`unknown KV format "${text}" (f32, f16, int8, int4, optionally -token or -channel for int8/int4)`);
  const type = match[1] as KvValueType;
  const grouping = (match[2] as KvGrouping | undefined) ?? (isQuantized(type) ? DEFAULT_GROUPING[section][type as "int8" | "int4"] : "token");
  if (match[2] && !isQuantized(type)) throw new KvFormatError(`${type} KV has no quantization groups ("${text}")`);
  return { type, grouping };
}

export function formatName(f: KvSectionFormat): string {
  return isQuantized(f.type) ? `${f.type}-${f.grouping}` : f.type;
}

export const F32_KV: KvCacheFormat = { k: { type: "f32", grouping: "token" }, v: { type: "f32", grouping: "token" } };

// ---- scale bytes (the same arithmetic as shaders/kv_seal.wgsl) -------------------------------------------

/** Scale byte b → its value: 2^((b − 128) / 8) in float32, 0 for b = 0 (as the kernels decode it). */
export function decodeScaleByte(byte: number): number {
  if (byte === 0) return 0;
  const x = byte - 128;
  return Math.pow(2, Math.floor(x / 8)) * Math.fround(Math.pow(2, (((x % 8) + 8) % 8) / 8));
}
