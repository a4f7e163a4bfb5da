// Memory: the engine's measured bytes per category (live and peak, from the allocator every GPU buffer goes
// through) beside the estimator's prediction and the adapter's limits; refreshed while a reply runs.

import { MEMORY_CATEGORIES, type MemoryReport } from "webkv";
import { h } from "../dom.js";
import { bytes } from "../format.js";
import { keepUpdated, state } from "../state.js";

export function renderMemory(root: HTMLElement): void {
  const body = h("div", { id: "memory" }, h("p", {}, "load a model to see its memory"));
  const refresh = h("button", { id: "memory-refresh", onclick: () => void update() }, "Refresh");
  root.append(h("div", { class: "row" }, refresh), body);

  const cell = (value: number, category: string, kind: string) => h("td", { dataset: { category, kind, bytes: String(value) }, title: `${value} bytes` }, bytes(value));

  function draw(report: MemoryReport) {
    const categories = [...MEMORY_CATEGORIES, "total"] as const;
    const predicted = report.predicted as unknown as Record<string, number>;
    body.replaceChildren(
      h("table", { id: "memory-table" },
        h("thead", {}, h("tr", {}, ...["category", "live", "peak", "predicted", "predicted − peak"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...categories.map((category) => {
          const measured = report.measured[category];
          const p = predicted[category] ?? 0;
          return h("tr", {}, h("th", { scope: "row" }, category), cell(measured.live, category, "live"), cell(measured.peak, category, "peak"), cell(p, category, "predicted"),
            h("td", {}, measured.peak > 0 ? `${(((p - measured.peak) / measured.peak) * 100).toFixed(1)}%` : "—"));
        }))),
      h("h2", {}, "Adapter limits"),
      h("table", { id: "memory-limits" }, h("tbody", {},
        h("tr", {}, h("th", { scope: "row" }, "maxBufferSize"), cell(report.limits.maxBufferSize, "limits", "maxBufferSize")),
        h("tr", {}, h("th", { scope: "row" }, "maxStorageBufferBindingSize"), cell(report.limits.maxStorageBufferBindingSize, "limits", "maxStorageBufferBindingSize")))),
      h("p", { class: "stats" }, `updated ${new Date().toLocaleTimeString()} — WebGPU does not report the device's total memory; these are per-buffer limits.`),
    );
    body.dataset.updated = String(Date.now());
  }

  async function update() {
    const engine = state.engine;
    if (!engine) return void body.replaceChildren(h("p", {}, "load a model to see its memory"));
    try {
      draw(await engine.memory());
    } catch {
      // the engine was unloaded in the meantime
    }
  }

  keepUpdated(root, update);
}
