// Context scaling: a sweep run in the browser over context lengths × KV formats × attention kinds. Each
// point loads the current model with the KV pool sized for that context, prefills a prompt filling it (less
// the generated tokens), decodes, and records decode ms/token, prefill tok/s, KV bytes and total memory —
// measured beside predicted — then unloads. SVG charts; JSON and CSV export.

import { createEngine } from "webkv";
import { COLORS, lineChart, type ChartSeries } from "../chart.js";
import { h, labeled } from "../dom.js";
import { bytes, number } from "../format.js";
import { clearError, showError, state } from "../state.js";

export interface SweepPoint {
  context: number;
  kv: string;
  attention: string;
  prompt_tokens: number;
  generated_tokens: number;
  decode_ms_per_token: number;
  prefill_tok_s: number;
  kv_bytes_measured: number;
  kv_bytes_predicted: number;
  total_bytes_measured_peak: number;
  total_bytes_predicted: number;
}

const CSV_COLUMNS: (keyof SweepPoint)[] = [
  "context", "kv", "attention", "prompt_tokens", "generated_tokens", "decode_ms_per_token", "prefill_tok_s",
  "kv_bytes_measured", "kv_bytes_predicted", "total_bytes_measured_peak", "total_bytes_predicted",
];

export function toCsv(points: SweepPoint[]): string {
  return [CSV_COLUMNS.join(","), ...points.map((p) => CSV_COLUMNS.map((c) => p[c]).join(","))].join("\n") + "\n";
}

export function renderScaling(root: HTMLElement): void {
  const contexts = h("input", { id: "sweep-contexts", value: "64,128,256", size: 24 });
  const generated = h("input", { id: "sweep-generated", type: "number", min: "1", value: "8", size: 4 });
  const formats = ["f32", "f16", "int8", "int4"].map((f) => h("input", { type: "checkbox", value: f, checked: f === "f32", id: `sweep-kv-${f}` }));
  const attentions = ["flash", "naive"].map((a) => h("input", { type: "checkbox", value: a, checked: a === "flash", id: `sweep-attention-${a}` }));
  const run = h("button", { id: "sweep-run" }, "Run sweep");
  const status = h("p", { id: "sweep-status", "aria-live": "polite" });
  const results = h("div", { id: "sweep-results" });
  const exports = h("p", { id: "sweep-exports" });

  run.addEventListener("click", async () => {
    const source = state.source;
    if (!source) return showError(new Error("load a model first (Models): the sweep reloads it at each setting"));
    clearError();
    const lengths = contexts.value.split(",").map((v) => Number(v.trim())).filter((v) => Number.isInteger(v) && v > 0);
    const kvs = formats.filter((f) => f.checked).map((f) => f.value);
    const kinds = attentions.filter((a) => a.checked).map((a) => a.value as "flash" | "naive");
    const gen = Number(generated.value);
    const points: SweepPoint[] = [];
    run.disabled = true;
    state.setBusy(true);
    try {
      for (const attention of kinds) {
        for (const kv of kvs) {
          for (const context of lengths) {
            status.textContent = `running ${attention}, ${kv} KV, context ${context}…`;
            const engine = await createEngine({ model: source, contextSize: context, kv, attention });
            try {
              const vocab = engine.info.model.vocabSize;
              const promptLength = Math.max(1, Math.min(context, engine.info.model.contextLength) - gen);
              const prompt = Array.from({ length: promptLength }, (_, i) => (i === 0 ? 1 : 2 + ((i * 7) % (vocab - 2))));
              const stream = engine.generate(prompt, { maxTokens: gen });
              for await (const _token of stream);
              const summary = await stream.summary;
              const memory = await engine.memory();
              points.push({
                context, kv, attention,
                prompt_tokens: summary.prompt_tokens,
                generated_tokens: summary.completion_tokens,
                decode_ms_per_token: summary.completion_tokens > 1 ? summary.decode_ms / (summary.completion_tokens - 1) : summary.decode_ms,
                prefill_tok_s: summary.prefill_tok_s,
                kv_bytes_measured: memory.measured.kv.peak,
                kv_bytes_predicted: memory.predicted.kv,
                total_bytes_measured_peak: memory.measured.total.peak,
                total_bytes_predicted: memory.predicted.total,
              });
            } finally {
              await engine.unload();
            }
          }
        }
      }
      draw(points);
      status.textContent = `done: ${points.length} points`;
    } catch (error) {
      showError(error);
      status.textContent = "the sweep stopped";
    } finally {
      run.disabled = false;
      state.setBusy(false);
    }
  });

  function draw(points: SweepPoint[]) {
    const groups = [...new Set(points.map((p) => `${p.attention} ${p.kv}`))];
    const series = (value: (p: SweepPoint) => number, predicted?: (p: SweepPoint) => number): ChartSeries[] =>
      groups.flatMap((group, i) => {
        const mine = points.filter((p) => `${p.attention} ${p.kv}` === group);
        const measured: ChartSeries = { name: `${group}${predicted ? " measured" : ""}`, color: COLORS[i % COLORS.length]!, points: mine.map((p) => ({ x: p.context, y: value(p) })) };
        return predicted ? [measured, { name: `${group} predicted`, color: COLORS[i % COLORS.length]!, dashed: true, points: mine.map((p) => ({ x: p.context, y: predicted(p) })) }] : [measured];
      });
    const figure = (title: string, chart: SVGSVGElement) => h("figure", {}, h("figcaption", {}, title), chart);
    results.replaceChildren(
      h("div", { class: "charts" },
        figure("decode ms / token", lineChart(series((p) => p.decode_ms_per_token), { yLabel: "decode ms per token", format: (y) => number(y, 1) })),
        figure("prefill tokens / s", lineChart(series((p) => p.prefill_tok_s), { yLabel: "prefill tokens per second", format: (y) => number(y, 0) })),
        figure("KV bytes: measured vs predicted", lineChart(series((p) => p.kv_bytes_measured, (p) => p.kv_bytes_predicted), { yLabel: "KV bytes", format: bytes })),
        figure("total memory (peak): measured vs predicted", lineChart(series((p) => p.total_bytes_measured_peak, (p) => p.total_bytes_predicted), { yLabel: "total bytes", format: bytes })),
      ),
      h("table", { id: "sweep-table" },
        h("thead", {}, h("tr", {}, ...["attention", "KV", "context", "decode ms/tok", "prefill tok/s", "KV measured", "KV predicted", "total peak", "total predicted"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...points.map((p) => h("tr", {}, ...[p.attention, p.kv, p.context, number(p.decode_ms_per_token, 2), number(p.prefill_tok_s, 0), bytes(p.kv_bytes_measured), bytes(p.kv_bytes_predicted), bytes(p.total_bytes_measured_peak), bytes(p.total_bytes_predicted)].map((c) => h("td", {}, String(c))))))),
    );
    const link = (name: string, type: string, text: string) => h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name, id: `sweep-${name.split(".").pop()}` }, `export ${name}`);
    exports.replaceChildren(link("webkv-sweep.json", "application/json", JSON.stringify(points, null, 2)), " · ", link("webkv-sweep.csv", "text/csv", toCsv(points)));
  }

  root.append(
    h("p", {}, "Reloads the current model at each setting (the KV pool sized for that context), fills the context with a prompt, decodes, and measures."),
    h("div", { class: "row" },
      labeled("contexts (comma-separated)", contexts), labeled("generated tokens", generated),
      h("fieldset", {}, h("legend", {}, "KV formats"), ...formats.flatMap((f) => [f, h("label", { htmlFor: f.id }, ` ${f.value} `)])),
      h("fieldset", {}, h("legend", {}, "attention"), ...attentions.flatMap((a) => [a, h("label", { htmlFor: a.id }, ` ${a.value} `)])),
      run),
    status, results, exports,
  );
}
