// Parameter counts: total (everything resident) and active (what one token's forward pass reads).
//   total  = Σ rows × rowLength × copies                 over the inventory (or Σ elements of a GGUF's tensors)
//   active = the same with routed experts counted expertsPerToken times per MoE layer instead of `experts` times
// Two conventions for "active" are in use: Mistral's 12.9B for Mixtral counts the token embedding;
// DeepSeek's 36.6B (≈37B) for V3 does not (an embedding lookup reads one row, not the matrix).
// Both are reported: `active` with the embedding, `activeExcludingEmbedding` without it.
// A tied embedding is also the output head, which every token reads in full, so it is never excluded.

import { ggufTensorRole, tensorElementCount } from "./gguf-tensors.js";
import { modelInventory, tensorElements, type TensorGroup } from "./inventory.js";
import type { ModelDescription } from "./model.js";

export interface ParamCounts {
  total: number;
  active: number;
  activeExcludingEmbedding: number;
  byGroup: Partial<Record<TensorGroup, number>>;
  /** "shapes": derived from the description; "tensors": summed over the GGUF's tensor list. */
  countedFrom: "shapes" | "tensors";
}

export function countParams(model: ModelDescription): ParamCounts {
  const byGroup: Partial<Record<TensorGroup, number>> = {};
  let total = 0;
  let active = 0;
  let embedding = 0;
  const add = (group: TensorGroup, all: number, used: number) => {
    byGroup[group] = (byGroup[group] ?? 0) + all;
    total += all;
    active += used;
    if (group === "embedding") embedding += all;
  };

  if (model.tensors && model.tensors.length > 0) {
    const moe = model.moe;
    for (const tensor of model.tensors) {
      const elements = tensorElementCount(tensor.dims);
      const { group } = ggufTensorRole(tensor.name);
      const used = group === "experts" && moe ? (elements * moe.expertsPerToken) / moe.experts : elements;
      add(group, elements, used);
    }
  } else {
    for (const tensor of modelInventory(model)) {
      const perCopy = tensorElements(tensor);
      add(tensor.group, perCopy * tensor.copies, perCopy * tensor.activeCopies);
    }
  }
  const embeddingIsAlsoHead = model.tiedEmbeddings;
  return {
    total,
    active,
    activeExcludingEmbedding: embeddingIsAlsoHead ? active : active - embedding,
    byGroup,
    countedFrom: model.tensors && model.tensors.length > 0 ? "tensors" : "shapes",
  };
}
