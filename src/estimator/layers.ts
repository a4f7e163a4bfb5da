// One line per layer: does it keep its own cache, is its attention global or windowed, is its FFN dense
// or a mixture of experts. KV and weights are both sums over this plan.

import type { ModelDescription } from "./model.js";

export interface LayerPlan {
  index: number;
  /** "local": attends to the last slidingWindow.size tokens only. */
  attention: "global" | "local";
  /** False when the layer reads another layer's cache (cross-layer KV sharing) and stores none. */
  storesKv: boolean;
  ffn: "dense" | "moe";
}

export function layerPlan(model: ModelDescription): LayerPlan[] {
  const plan: LayerPlan[] = [];
  for (let index = 0; index < model.layers; index++) {
    const local = model.slidingWindow?.localLayers[index] ?? false;
    const source = model.kvSourceLayer?.[index] ?? index;
    const moe = model.moe !== undefined && index >= model.moe.denseLayersFirst;
    plan.push({ index, attention: local ? "local" : "global", storesKv: source === index, ffn: moe ? "moe" : "dense" });
  }
  return plan;
}

/** Gemma-2: layers alternate local, global, local, ... (layer 0 local). */
export function alternatingLocalLayers(layers: number): boolean[] {
  return Array.from({ length: layers }, (_, i) => i % 2 === 0);
}

/** Gemma-3: `localPerGlobal` local layers then one global, repeating (5:1 → layers 5, 11, ... global). */
export function patternLocalLayers(layers: number, localPerGlobal: number): boolean[] {
  return Array.from({ length: layers }, (_, i) => (i + 1) % (localPerGlobal + 1) !== 0);
}

export function allLocalLayers(layers: number): boolean[] {
  return Array.from({ length: layers }, () => true);
}
