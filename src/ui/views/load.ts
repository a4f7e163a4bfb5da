// Loading a model from any source the Models view offers (catalog name, URL, dropped or chosen file, cached
// URL): unloads the current engine first, reports progress, and names the error when it fails — the app
// stays usable and the next load starts clean.

import { createEngine, type LoadProgress } from "webkv";
import { bytes } from "../format.js";
import { clearError, showError, state } from "../state.js";

export async function loadModel(model: string | Blob, progress: (text: string, fraction: number) => void): Promise<boolean> {
  clearError();
  const status = document.getElementById("model-status")!;
  // not loaded from the first moment: nothing may see the old model's "loaded" while it is unloaded
  delete status.dataset.loaded;
  status.textContent = `loading ${typeof model === "string" ? model : (model as File).name ?? "file"}…`;
  if (state.engine) {
    const old = state.engine;
    state.engine = undefined;
    state.changed();
    await old.unload().catch(() => undefined);
  }
  const { contextSize, kv, attention, kvBudget } = state.settings;
  try {
    const engine = await createEngine({
      model,
      contextSize,
      kv,
      attention,
      kvBudget,
      onProgress: (p: LoadProgress) =>
        progress(`${p.phase} ${bytes(p.bytes)} of ${bytes(p.total)}${p.bytesPerSecond > 0 ? ` at ${bytes(p.bytesPerSecond)}/s` : ""}`, p.fraction),
    });
    state.engine = engine;
    state.source = model;
    const { model: info, adapter } = engine.info;
    status.textContent = `${info.name}: ${info.architecture}, ${info.layers} layers, context ${info.contextLength}, ${bytes(info.bytes)} — on ${adapter.vendor || "?"} ${adapter.architecture || adapter.description}`;
    status.dataset.loaded = "true";
    progress("loaded", 1);
    state.changed();
    return true;
  } catch (error) {
    status.textContent = "no model loaded";
    delete status.dataset.loaded;
    progress("", 0);
    showError(error);
    state.changed();
    return false;
  }
}
