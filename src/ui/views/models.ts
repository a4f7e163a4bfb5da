// Models: load settings; the catalog with each model's predicted memory at the chosen context and KV format
// and whether it fits the adapter's limits; a URL field; drag-and-drop (or a file chooser) for a local GGUF;
// the cached models with their sizes.

import { CATALOG, deleteCachedModel, describeGgufUrl, estimate, listCachedModels, preset, webgpuAdapter, type AdapterInfo, type CatalogEntry, type ModelDescription } from "webkv";
import { h, labeled } from "../dom.js";
import { bytes, errorText } from "../format.js";
import { showError, state } from "../state.js";
import { loadModel } from "./load.js";

/** Catalog models whose shapes the estimator has as presets (the others: their headers, read on request). */
const PRESET_OF: Record<string, string> = { stories260K: "stories260k", "smollm2-135m": "smollm2-135m", "qwen2.5-0.5b": "qwen2.5-0.5b" };

function presetFor(entry: CatalogEntry): string | undefined {
  const key = Object.keys(PRESET_OF).find((prefix) => entry.name.toLowerCase().startsWith(prefix.toLowerCase()));
  return key ? PRESET_OF[key] : undefined;
}

function weightFormatOf(entry: CatalogEntry): string {
  const match = entry.name.toLowerCase().match(/(q\d_k|q\d_\d)(_[ms])?$/);
  return match ? match[1]! : "f32";
}

export function renderModels(root: HTMLElement): void {
  const progressBar = h("progress", { max: 1, value: 0, id: "load-progress" });
  const progressText = h("span", { id: "load-progress-text" });
  const progress = (text: string, fraction: number) => {
    progressBar.value = fraction;
    progressText.textContent = text;
  };

  const context = h("input", { type: "number", min: "1", placeholder: "model's", id: "load-context" });
  const kv = h("select", { id: "load-kv" }, ...["f32", "f16", "int8", "int4"].map((f) => h("option", { value: f }, f)));
  const attention = h("select", { id: "load-attention" }, h("option", { value: "flash" }, "flash"), h("option", { value: "naive" }, "naive"));
  const budget = h("input", { type: "text", placeholder: "auto", id: "load-kv-budget", size: 10 });
  const syncSettings = () => {
    state.settings = {
      contextSize: context.value ? Number(context.value) : undefined,
      kv: kv.value,
      attention: attention.value as "flash" | "naive",
      kvBudget: budget.value ? Number(budget.value) : undefined,
    };
    void renderCatalog();
  };
  for (const input of [context, kv, attention, budget]) input.addEventListener("change", syncSettings);

  const url = h("input", { type: "url", id: "model-url", placeholder: "https://…/model.gguf", size: 48 });
  const urlForm = h(
    "form",
    { class: "row", onsubmit: (event: Event) => { event.preventDefault(); if (url.value) void loadAndRefresh(url.value); } },
    labeled("GGUF URL", url),
    h("button", { type: "submit", id: "load-url" }, "Load URL"),
  );

  const fileInput = h("input", { type: "file", id: "model-file", accept: ".gguf" });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) void loadAndRefresh(file);
  });
  const drop = h("div", { class: "drop", id: "model-drop", tabindex: "0", role: "group", "aria-label": "Drop a GGUF file here" }, "Drop a local GGUF file here, or ", labeled("choose one", fileInput));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer?.files[0];
    if (file) void loadAndRefresh(file);
  });

  const catalogBox = h("div", { id: "catalog" });
  const cachedBox = h("div", { id: "cached" });
  let adapter: AdapterInfo | undefined;
  let adapterError = "";
  /** Shapes read from catalog models' headers (Range requests to their own URLs, on request). */
  const described = new Map<string, ModelDescription>();
  const readHeader = async (entry: CatalogEntry) => {
    try {
      described.set(entry.name, await describeGgufUrl(entry.url));
      await renderCatalog();
    } catch (error) {
      showError(error);
    }
  };

  async function loadAndRefresh(model: string | Blob) {
    await loadModel(model, progress);
    await renderCached();
  }

  async function renderCatalog() {
    const contextSize = state.settings.contextSize;
    const rows = CATALOG.map((entry) => {
      const presetId = presetFor(entry);
      const fromHeader = described.get(entry.name);
      let predicted: string | HTMLElement = h("button", { onclick: () => void readHeader(entry) }, "read its header");
      let fits = adapter ? "—" : adapterError || "…";
      if (presetId || fromHeader) {
        try {
          const model = fromHeader ?? preset(presetId!);
          const weights = fromHeader ? {} : { weightFormat: weightFormatOf(entry) };
          const result = estimate(model, { context: contextSize ?? model.contextLength, kvFormat: state.settings.kv, ...weights, sequences: 1 });
          predicted = bytes(result.bytes.total);
          if (adapter) {
            const kvPerLayer = result.bytes.kv / Math.max(1, model.layers);
            fits = kvPerLayer <= adapter.limits.maxStorageBufferBindingSize ? "fits" : `KV layer ${bytes(kvPerLayer)} > binding ${bytes(adapter.limits.maxStorageBufferBindingSize)}`;
          }
        } catch (error) {
          predicted = errorText(error);
        }
      }
      const load = h("button", { onclick: () => void loadAndRefresh(entry.name) }, "Load");
      return h("tr", {}, h("td", {}, entry.name), h("td", {}, entry.bytes ? bytes(entry.bytes) : "?"), h("td", {}, predicted), h("td", { class: fits === "fits" ? "fits" : "nofit" }, fits), h("td", {}, load));
    });
    catalogBox.replaceChildren(
      h("table", { id: "catalog-table" },
        h("thead", {}, h("tr", {}, ...["model", "file", `predicted at ${contextSize ?? "its"} context, ${state.settings.kv} KV`, "adapter limits", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...rows)),
      h("p", { class: "stats" }, "WebGPU reports per-buffer limits, not the device's memory: “fits” means every KV layer fits one storage binding and weights are split under it."),
    );
  }

  async function renderCached() {
    try {
      const cached = await listCachedModels();
      cachedBox.replaceChildren(
        cached.length === 0
          ? h("p", {}, "no cached models")
          : h("table", { id: "cached-table" },
              h("thead", {}, h("tr", {}, ...["URL", "size", "sha256", ""].map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", {}, ...cached.map((m) => h("tr", {}, h("td", {}, m.url), h("td", {}, bytes(m.bytes)), h("td", {}, `${m.sha256.slice(0, 16)}…`),
                h("td", {}, h("button", { onclick: () => void loadAndRefresh(m.url) }, "Load"), " ", h("button", { onclick: async () => { await deleteCachedModel(m.url); await renderCached(); } }, "Delete")))))),
      );
    } catch (error) {
      showError(error);
    }
  }

  root.append(
    h("h2", {}, "Load settings"),
    h("div", { class: "row" }, labeled("context (tokens)", context), labeled("KV format", kv), labeled("attention", attention), labeled("KV budget (bytes or 0..1)", budget)),
    h("h2", {}, "Load a model"),
    urlForm,
    drop,
    h("p", {}, progressBar, " ", progressText),
    h("h2", {}, "Catalog"),
    catalogBox,
    h("h2", {}, "Cached models"),
    cachedBox,
  );
  void renderCatalog();
  void renderCached();
  webgpuAdapter().then(
    (info) => { adapter = info; void renderCatalog(); },
    (error) => { adapterError = errorText(error); void renderCatalog(); },
  );
}
