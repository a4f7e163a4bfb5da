// GGUF fuzzing in the page, shared by tests/e2e/fuzz.test.ts (a seeded few hundred cases in CI) and
// bench/fuzz.ts (≥ 10,000). Each case is a valid model with one thing wrong — header bytes, a metadata
// value, a tensor info field, tensor data, or a cut — loaded in the page from its bytes and, when it loads,
// asked for a few tokens. Every case must end as a named error (an error with a stable code) or an output
// (a loaded model whose tokens are in the vocabulary); never an unnamed error, a hang or a crash.

import { Random } from "../../src/gguf/random.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { encodeGgufBytes, meta, type GgufWriteValue } from "../../src/gguf/writer.js";
import type { BrowserSession } from "../../src/harness/session.js";
import { walkGgufLayout } from "./malformed-cases.js";

export type FuzzFamily = "header" | "metadata" | "tensor_info" | "tensor_data" | "truncation";
export type FuzzOutcome = "named_error" | "output" | "unnamed_error" | "hang" | "crash";
export const FUZZ_OUTCOMES: FuzzOutcome[] = ["named_error", "output", "unnamed_error", "hang", "crash"];
export const FUZZ_FAMILIES: FuzzFamily[] = ["header", "metadata", "tensor_info", "tensor_data", "truncation"];

export interface FuzzBase {
  name: string;
  metadata: Record<string, GgufWriteValue>;
  bytes: Uint8Array;
}

export interface FuzzCase {
  family: FuzzFamily;
  base: string;
  name: string;
  bytes: Uint8Array;
}

/** Small valid models in several architectures and weight types, quick to load. */
export function fuzzBases(): FuzzBase[] {
  const shape = { dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, vocab: 300, contextLength: 128 } as const;
  const specs: { name: string; shape: SyntheticLlamaShape; type: GgmlType }[] = [
    { name: "llama F32", shape, type: GgmlType.F32 },
    { name: "qwen2 Q8_0", shape: { ...shape, architecture: "qwen2" }, type: GgmlType.Q8_0 },
    { name: "gemma2 Q4_0", shape: { ...shape, architecture: "gemma2", slidingWindow: 16 }, type: GgmlType.Q4_0 },
    { name: "phi3 F16", shape: { ...shape, architecture: "phi3", ropeDim: 8 }, type: GgmlType.F16 },
  ];
  return specs.map(({ name, shape: s, type }) => {
    const model = syntheticLlama(s, { seed: 4, weightType: type });
    return { name, metadata: model.metadata, bytes: encodeGgufBytes(model.metadata, model.tensors) };
  });
}

const BOUNDARY_NUMBERS = [0, -1, 1, 2, 3, 7, 255, 65535, 2 ** 31, 2 ** 32 - 1, 1e-30, 1e30, 3.5, NaN, Infinity, -Infinity];

/** `count` seeded cases, cycling through families and bases. */
export function* fuzzCases(bases: FuzzBase[], count: number, seed: number): Generator<FuzzCase> {
  const random = new Random(seed);
  const pick = <T>(items: readonly T[]): T => items[random.nextInt(items.length)]!;
  const layouts = new Map(bases.map((b) => [b.name, walkGgufLayout(b.bytes)]));
  for (let i = 0; i < count; i++) {
    const family = FUZZ_FAMILIES[i % FUZZ_FAMILIES.length]!;
    const base = bases[Math.floor(i / FUZZ_FAMILIES.length) % bases.length]!;
    const layout = layouts.get(base.name)!;
    const bytes = base.bytes.slice();
    const view = new DataView(bytes.buffer);
    let name: string;
    if (family === "header") {
      const flips = 1 + random.nextInt(4);
      const at: number[] = [];
      for (let f = 0; f < flips; f++) {
        const offset = random.nextInt(layout.tensorInfosEnd);
        bytes[offset] = random.nextInt(256);
        at.push(offset);
      }
      name = `bytes at ${at.join(",")}`;
    } else if (family === "metadata") {
      const metadata = { ...base.metadata };
      const key = pick(Object.keys(metadata));
      const value = metadata[key]!;
      const choice = random.nextInt(4);
      if (choice === 0) {
        delete metadata[key];
        name = `${key} removed`;
      } else if (value.type === 8 /* STRING */ || choice === 1) {
        const text = pick(["", "gemma9", "llama", "qwen3", "phi3", "yarn", "linear", "x".repeat(300), "\u0000", "gpt2"]);
        metadata[key] = meta.str(text);
        name = `${key} = "${text.slice(0, 12)}"`;
      } else {
        const number = pick(BOUNDARY_NUMBERS);
        metadata[key] = Number.isInteger(number) && number >= 0 && number < 2 ** 32 && random.nextInt(2) === 0 ? meta.u32(number) : meta.f32(number);
        name = `${key} = ${number}`;
      }
      const bases = fuzzTensorsOf(base);
      yield { family, base: base.name, name, bytes: encodeGgufBytes(metadata, bases) };
      continue;
    } else if (family === "tensor_info") {
      const tensor = pick(layout.tensors);
      const field = random.nextInt(3);
      if (field === 0 && tensor.dimAt.length > 0) {
        const d = random.nextInt(tensor.dimAt.length);
        const value = pick([0, 1, tensor.dims[d]! * 2, tensor.dims[d]! - 1, 2 ** 31, random.nextInt(4096)]);
        view.setBigUint64(tensor.dimAt[d]!, BigInt(value), true);
        name = `${tensor.name} dim ${d} = ${value}`;
      } else if (field === 1) {
        const type = pick([0, 1, 2, 3, 6, 7, 8, 10, 12, 14, 16, 20, 23, 30, 39, 99]);
        view.setUint32(tensor.typeAt, type, true);
        name = `${tensor.name} type = ${type}`;
      } else {
        const offset = pick([0, 1, 32, tensor.relativeOffset + 32, 2 ** 40, random.nextInt(bytes.length)]);
        view.setBigUint64(tensor.dataOffsetAt, BigInt(offset), true);
        name = `${tensor.name} offset = ${offset}`;
      }
    } else if (family === "tensor_data") {
      const tensor = pick(layout.tensors);
      const start = layout.dataStart + tensor.relativeOffset;
      const writes = 1 + random.nextInt(8);
      for (let w = 0; w + 4 <= tensor.byteLength && w < writes; w++) {
        const at = start + random.nextInt(Math.max(1, tensor.byteLength - 3));
        const value = pick([0x7fc00000, 0x7f800000, 0xff800000, 0x7f7fffff, 0x7e007e00, 0x7c007c00, random.nextInt(2 ** 32)]);
        view.setUint32(at, value >>> 0, true);
      }
      name = `${writes} write(s) in ${tensor.name}`;
    } else {
      const cut = random.nextInt(bytes.length);
      yield { family, base: base.name, name: `cut at ${cut} of ${bytes.length}`, bytes: bytes.slice(0, cut) };
      continue;
    }
    yield { family, base: base.name, name, bytes };
  }
}

/** The base model's tensors, re-read from its bytes so metadata cases re-encode the same weights. */
function fuzzTensorsOf(base: FuzzBase) {
  const layout = walkGgufLayout(base.bytes);
  return layout.tensors.map((t) => {
    const start = layout.dataStart + t.relativeOffset;
    return { name: t.name, dims: t.dims, type: t.type, bytes: base.bytes.slice(start, start + t.byteLength) };
  });
}

export interface FuzzResult {
  outcome: FuzzOutcome;
  /** The error's code and message (errors), or the generated ids (outputs). */
  detail: string;
}

/** Runs one case in the page: load from bytes, and if it loads, three greedy tokens. */
export async function runFuzzCase(session: BrowserSession, testCase: FuzzCase, timeoutMs: number): Promise<FuzzResult> {
  const withTimeout = <T>(promise: Promise<T>) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new FuzzTimeout()), timeoutMs))]);
  let modelId: number | undefined;
  try {
    const loaded = await withTimeout(session.call<{ modelId: number; config: { vocabSize: number } }>("load", {
      bytes: testCase.bytes, options: { maxStepTokens: 16, kvBlocks: 8, contextSize: 128 },
    }));
    modelId = loaded.modelId;
    const reply = await withTimeout(session.call<{ output_ids: number[] }>("generate", { modelId, promptIds: [1, 2, 3], maxTokens: 3 }));
    const ok = reply.output_ids.every((id) => Number.isInteger(id) && id >= 0 && id < loaded.config.vocabSize);
    return ok ? { outcome: "output", detail: reply.output_ids.join(",") } : { outcome: "unnamed_error", detail: `ids outside the vocabulary: ${reply.output_ids}` };
  } catch (error) {
    if (error instanceof FuzzTimeout) return { outcome: "hang", detail: `no answer in ${timeoutMs} ms` };
    const e = error as { code?: string; message?: string };
    if (e.code === "page_crashed") return { outcome: "crash", detail: e.message ?? "" };
    const named = typeof e.code === "string" && e.code !== "error" && e.code !== "" && !!e.message;
    return { outcome: named ? "named_error" : "unnamed_error", detail: `${e.code}: ${e.message}` };
  } finally {
    if (modelId !== undefined) await session.call("unload", { modelId }).catch(() => undefined);
  }
}

class FuzzTimeout extends Error {}
