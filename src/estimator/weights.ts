// Weight bytes, whole model and per GPU.
// From shapes:  bytes(matrix) = rows × (rowLength / blockElements × blockBytes + perRowBytes)   (weight-formats.ts)
//               bytes(vector) = length × 4 (F32) beside quantized matrices, length × the float size otherwise
// From a GGUF:  bytes(tensor) = elements / blockElements × blockBytes of the tensor's own ggml type.
// Tensor parallelism over t GPUs (Megatron-style): q/k/v, gate/up and the vocab rows of the embedding and
// output head are split by rows; attn_output and ffn_down by row length; KV-head rows are split when
// K ≥ t and replicated (one head per GPU) when K < t; norms, routers and MLA's down-projections are
// replicated. Experts are split the same way inside each expert (every GPU holds a slice of every expert).

import { ggufTensorRole, tensorElementCount } from "./gguf-tensors.js";
import { modelInventory, type InventoryTensor, type TensorGroup, type TpSplit } from "./inventory.js";
import type { ModelDescription } from "./model.js";
import { ggmlTensorBytes, ggmlTypeLayout, matrixBytes, vectorBytes, type WeightFormatSpec } from "./weight-formats.js";

export interface WeightGroupBytes {
  group: TensorGroup;
  /** Bytes of the whole model's tensors in this group (one copy, no replication). */
  bytes: number;
  /** Bytes one GPU holds. */
  bytesPerGpu: number;
  /** Formats seen in the group: "q4_k", or "Q4_K, Q6_K" from a GGUF. */
  formats: string;
}

export interface WeightBytes {
  bytes: number;
  bytesPerGpu: number;
  groups: WeightGroupBytes[];
  /** The largest single tensor one GPU holds (sizes the upload staging buffer). */
  largestTensorPerGpu: number;
  /** Matrices whose rows are not whole blocks and so stay in F16. */
  fallbacks: string[];
}

/** KV heads one GPU holds: K/t when K ≥ t (t must divide K), else 1 (each head replicated on t/K GPUs). */
export function kvHeadsPerGpu(kvHeads: number, tp: number): number {
  return kvHeads >= tp ? kvHeads / tp : 1;
}

/** Fraction of a tensor's elements one GPU holds. */
function shareOnOneGpu(split: TpSplit, model: ModelDescription, tp: number): number {
  if (tp === 1 || split === "replicated") return 1;
  if (split === "kv_rows") return kvHeadsPerGpu(model.kvHeads, tp) / model.kvHeads;
  return 1 / tp;
}

function perGpuShape(tensor: InventoryTensor, model: ModelDescription, tp: number): { rows: number; rowLength: number } {
  switch (tensor.split) {
    case "rows": return { rows: Math.ceil(tensor.rows / tp), rowLength: tensor.rowLength };
    case "row_length": return { rows: tensor.rows, rowLength: Math.ceil(tensor.rowLength / tp) };
    case "kv_rows": return { rows: (tensor.rows / model.kvHeads) * kvHeadsPerGpu(model.kvHeads, tp), rowLength: tensor.rowLength };
    case "replicated": return { rows: tensor.rows, rowLength: tensor.rowLength };
  }
}

/** Weights of a model described by shapes, every matrix in `format`. */
export function weightBytesFromShapes(model: ModelDescription, format: WeightFormatSpec, tp: number): WeightBytes {
  const groups = new Map<TensorGroup, WeightGroupBytes>();
  const fallbacks: string[] = [];
  let largestTensorPerGpu = 0;
  for (const tensor of modelInventory(model)) {
    const shape = perGpuShape(tensor, model, tp);
    let whole: number;
    let oneGpu: number;
    if (tensor.isVector) {
      const length = tensor.split === "replicated" ? tensor.rowLength : Math.ceil(tensor.rowLength * shareOnOneGpu(tensor.split, model, tp));
      whole = vectorBytes(format, tensor.rowLength);
      oneGpu = vectorBytes(format, length);
    } else {
      const full = matrixBytes(format, tensor.rows, tensor.rowLength);
      const part = matrixBytes(format, shape.rows, shape.rowLength);
      if (full.fellBack || part.fellBack) {
        fallbacks.push(`${tensor.name} (rows of ${part.fellBack ? shape.rowLength : tensor.rowLength} are not whole ${format.id} blocks of ${format.blockElements}: kept in f16)`);
      }
      whole = full.bytes;
      oneGpu = part.bytes;
    }
    largestTensorPerGpu = Math.max(largestTensorPerGpu, oneGpu);
    const row = groups.get(tensor.group) ?? { group: tensor.group, bytes: 0, bytesPerGpu: 0, formats: format.id };
    row.bytes += whole * tensor.copies;
    row.bytesPerGpu += oneGpu * tensor.copies;
    groups.set(tensor.group, row);
  }
  return summarize([...groups.values()], largestTensorPerGpu, fallbacks);
}

/** Weights of a GGUF, each tensor in its own ggml type. */
export function weightBytesFromTensors(model: ModelDescription, tp: number): WeightBytes {
  const groups = new Map<TensorGroup, WeightGroupBytes & { typeSet: Set<string> }>();
  let largestTensorPerGpu = 0;
  for (const tensor of model.tensors ?? []) {
    const { group, split } = ggufTensorRole(tensor.name);
    const whole = ggmlTensorBytes(tensor.type, tensorElementCount(tensor.dims));
    const oneGpu = Math.ceil(whole * shareOnOneGpu(split, model, tp));
    largestTensorPerGpu = Math.max(largestTensorPerGpu, oneGpu);
    const row = groups.get(group) ?? { group, bytes: 0, bytesPerGpu: 0, formats: "", typeSet: new Set<string>() };
    row.bytes += whole;
    row.bytesPerGpu += oneGpu;
    row.typeSet.add(ggmlTypeLayout(tensor.type).name);
    groups.set(group, row);
  }
  const rows = [...groups.values()].map(({ typeSet, ...row }) => ({ ...row, formats: [...typeSet].sort().join(", ") }));
  return summarize(rows, largestTensorPerGpu, []);
}

const GROUP_ORDER: TensorGroup[] = ["embedding", "attention", "norms", "ffn", "router", "experts", "shared_experts", "output", "other"];

function summarize(groups: WeightGroupBytes[], largestTensorPerGpu: number, fallbacks: string[]): WeightBytes {
  groups.sort((a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group));
  return {
    bytes: groups.reduce((sum, g) => sum + g.bytes, 0),
    bytesPerGpu: groups.reduce((sum, g) => sum + g.bytesPerGpu, 0),
    groups,
    largestTensorPerGpu,
    fallbacks,
  };
}
