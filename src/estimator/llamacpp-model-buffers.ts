// llama.cpp's model buffers on the CPU backend (llama.cpp v0.5.0 as bundled by node-llama-cpp 3.22.1):
//
// - src/llama-model.cpp load_tensors + src/llama-model-loader.cpp: with mmap (the default) the weights are not
//   copied: a CPU_Mapped buffer is made over the file's bytes, from the first to the last byte of the tensors
//   it holds, so its size is the span of their data in the file (the alignment padding between tensors
//   included). Tensors moved to another buffer type leave that span.
// - ggml/src/ggml-cpu/repack.cpp: where the CPU has a faster layout for a type, the matrices that matmuls read
//   are copied into a CPU_REPACK buffer of the same size (the repacked blocks are interleaved, not smaller).
//   On x86 with AVX2 (the bench machine's haswell build) Q4_0 matrices whose row count is a multiple of 8 are
//   repacked; token_embd is read with get_rows, never repacked — but a tied output head (no output.weight) is
//   token_embd used by a matmul, so llama.cpp gives it a repacked copy of token_embd. Other types are left in place here
//   (K-quant and IQ4_NL repacks are CPU- and version-dependent: not modelled, and so not claimed).
// - Without tensor offsets (a preset), tensors are laid out in order, each padded to the file's alignment (32).

import { tensorElementCount } from "./gguf-tensors.js";
import { modelInventory } from "./inventory.js";
import type { ModelDescription, TensorInfo } from "./model.js";
import { ggmlTensorBytes, ggmlTypeLayout, weightFormat } from "./weight-formats.js";

export const GGUF_ALIGNMENT = 32;

export type LlamaCppCpuRepack = "avx2" | "none";

export interface LlamaCppModelBuffers {
  /** Buffer type name → bytes, as llama.cpp names them (CPU_Mapped, CPU_REPACK). */
  buffers: Record<string, number>;
  total: number;
  formulas: string[];
}

interface PlacedTensor {
  name: string;
  type: string;
  rows: number;
  offset: number;
  bytes: number;
}

const pad = (n: number, to: number) => Math.ceil(n / to) * to;

function placedFromTensors(tensors: readonly TensorInfo[]): PlacedTensor[] {
  let next = 0;
  return tensors.map((t) => {
    const bytes = ggmlTensorBytes(t.type, tensorElementCount(t.dims));
    const offset = t.offset ?? next;
    next = pad(offset + bytes, GGUF_ALIGNMENT);
    return { name: t.name, type: ggmlTypeLayout(t.type).name, rows: t.dims.length > 1 ? t.dims.slice(1).reduce((a, b) => a * b, 1) : 1, offset, bytes };
  });
}

/** A preset's tensors in llama.cpp's file order, matrices in `format` (a ggml type), vectors in F32. */
function placedFromShapes(model: ModelDescription, format: string): PlacedTensor[] {
  const type = ggmlTypeLayout(weightFormat(format).id).name;
  const placed: PlacedTensor[] = [];
  let next = 0;
  for (const t of modelInventory(model)) {
    for (let copy = 0; copy < t.copies; copy++) {
      const tensorType = t.isVector ? "F32" : type;
      const bytes = ggmlTensorBytes(tensorType, t.rows * t.rowLength);
      placed.push({ name: t.name, type: tensorType, rows: t.rows, offset: next, bytes });
      next = pad(next + bytes, GGUF_ALIGNMENT);
    }
  }
  return placed;
}

function repacked(t: PlacedTensor, repack: LlamaCppCpuRepack): boolean {
  if (repack === "none" || t.rows === 1) return false;
  if (t.name.startsWith("token_embd")) return false;
  return t.type === "Q4_0" && t.rows % 8 === 0;
}

export function llamaCppModelBuffers(model: ModelDescription, options: { weightFormat?: string; repack: LlamaCppCpuRepack }): LlamaCppModelBuffers {
  const placed = model.tensors && model.tensors.length > 0 && options.weightFormat === undefined
    ? placedFromTensors(model.tensors)
    : placedFromShapes(model, options.weightFormat ?? "f16");
  const moved = placed.filter((t) => repacked(t, options.repack));
  const mapped = placed.filter((t) => !repacked(t, options.repack));
  const embedding = placed.find((t) => t.name.startsWith("token_embd"));
  const tiedHead = embedding && !placed.some((t) => t.name === "output.weight" || t.name === "output") ? { ...embedding, name: "output (tied)" } : undefined;
  if (tiedHead && repacked(tiedHead, options.repack)) moved.push(tiedHead);
  const buffers: Record<string, number> = {};
  const formulas: string[] = [];
  if (mapped.length > 0) {
    const start = Math.min(...mapped.map((t) => t.offset));
    const end = Math.max(...mapped.map((t) => t.offset + t.bytes));
    buffers.CPU_Mapped = end - start;
    const sum = mapped.reduce((s, t) => s + t.bytes, 0);
    formulas.push(
      `llama.cpp CPU_Mapped = file span of ${mapped.length} tensors from byte ${start} to ${end} = ${end - start} B ` +
        `(their data ${sum} B + ${end - start - sum} B of alignment padding and repacked tensors lying between them)`,
    );
  }
  if (moved.length > 0) {
    buffers.CPU_REPACK = moved.reduce((s, t) => s + t.bytes, 0);
    formulas.push(
      `llama.cpp CPU_REPACK = ${moved.length} Q4_0 matrices with rows a multiple of 8, same bytes as in the file` +
        (tiedHead && moved.includes(tiedHead) ? " (the tied output head among them, a repacked copy of token_embd)" : "") +
        ` = ${buffers.CPU_REPACK} B`,
    );
  }
  const total = Object.values(buffers).reduce((a, b) => a + b, 0);
  return { buffers, total, formulas };
}
