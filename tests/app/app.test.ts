// The app as a user meets it: the static build (dist/app) served by a plain static file server, in headless
// Chromium at 1280×800. Bad input through the UI shows each named error and a good model still loads after;
// stories260K loads through the URL field; the Memory view equals engine.memory(); a ChatML model answers
// two chat turns (the second prefills only its new tokens); the KV map draws the used blocks; a small sweep
// draws its charts and exports CSV; the Estimator answers. Screenshots of each view go to
// test-artifacts/app/. No console errors but the deliberate 404's, no request to any other host.

import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type LaunchedChromium } from "../../src/harness/chromium.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import type { KvMap, MemoryReport } from "../../src/lib/index.js";
import { modelPath } from "../helpers/env.js";
import { startStaticServer, type StaticServer } from "../helpers/static-server.js";

const repoRoot = resolve(import.meta.dirname, "..", "..");
const artifacts = join(repoRoot, "test-artifacts", "app");
let temp: string;
let server: StaticServer;
let chromium: LaunchedChromium;
let page: Page;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

interface AppEngine {
  memory(): Promise<MemoryReport>;
  kv(): Promise<KvMap>;
}
declare const webkvApp: { engine(): AppEngine | undefined };

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "webkv-app-"));
  await mkdir(artifacts, { recursive: true });
  server = await startStaticServer(join(repoRoot, "dist", "app"));
  server.mount("/models/stories260K.gguf", modelPath("stories260K.gguf"));
  const stories = await readFile(modelPath("stories260K.gguf"));
  await writeFile(join(temp, "truncated.gguf"), stories.subarray(0, 200_000));
  server.mount("/models/truncated.gguf", join(temp, "truncated.gguf"));
  const shape = { architecture: "qwen2" as const, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, vocab: 600, contextLength: 512 };
  const chatml = syntheticLlama(shape, { seed: 5, weightType: GgmlType.F32, chatml: true });
  await writeGgufFile(join(temp, "chatml.gguf"), chatml.metadata, chatml.tensors);
  server.mount("/models/chatml.gguf", join(temp, "chatml.gguf"));
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  chromium.context.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(server.origin) && !/^(data|blob):/.test(url)) foreignRequests.push(url);
  });
  await page.goto(`${server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  if (temp) await rm(temp, { recursive: true, force: true });
});

async function tab(name: string): Promise<void> {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

async function loadUrl(path: string): Promise<void> {
  await tab("models");
  await page.fill("#model-url", server.origin + path);
  await page.click("#load-url");
}

async function expectError(code: string, name: string): Promise<void> {
  await page.waitForFunction(() => !document.getElementById("error")!.hidden);
  const text = await page.textContent("#error");
  expect(text).toContain(`${name} (${code})`);
}

async function expectLoaded(): Promise<void> {
  await page.waitForSelector("#model-status[data-loaded=true]", { timeout: 60_000 });
  expect(await page.isHidden("#error")).toBe(true);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}

describe("the app (static build)", () => {
  it("is keyboard-usable: arrow keys move between the views", async () => {
    await page.focus("#tab-models");
    await page.keyboard.press("ArrowRight");
    expect(await page.getAttribute("#tab-chat", "aria-selected")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("tab-chat");
    await page.keyboard.press("ArrowLeft");
    expect(await page.getAttribute("#tab-models", "aria-selected")).toBe("true");
  });

  it("bad input shows the named error, then a good model loads: a dropped PNG, a 404, a truncated GGUF, a KV budget beyond the adapter", async () => {
    await tab("models");
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(200).fill(7)])], "picture.png", { type: "image/png" }));
      document.getElementById("model-drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await expectError("bad_model", "BadModelError");
    await shot("models-error-png");

    await loadUrl("/models/missing.gguf");
    await expectError("download_failed", "DownloadError");
    await loadUrl("/models/truncated.gguf");
    await expectError("bad_model", "BadModelError");

    await page.fill("#load-kv-budget", "1e13");
    await page.dispatchEvent("#load-kv-budget", "change");
    await loadUrl("/models/stories260K.gguf");
    await expectError("adapter_too_small", "AdapterTooSmallError");
    await page.fill("#load-kv-budget", "");
    await page.dispatchEvent("#load-kv-budget", "change");

    await loadUrl("/models/stories260K.gguf");
    await expectLoaded();
    expect(await page.textContent("#model-status")).toContain("llama");
    await page.waitForSelector("#cached-table");
    await shot("models");
  });

  it("shows memory numbers equal to engine.memory()", async () => {
    await tab("memory");
    await page.click("#memory-refresh");
    await page.waitForSelector("#memory-table");
    const shown = await page.$$eval("#memory-table td[data-kind]", (cells) => cells.map((c) => [`${(c as HTMLElement).dataset.category}.${(c as HTMLElement).dataset.kind}`, Number((c as HTMLElement).dataset.bytes)]));
    const report = await page.evaluate(() => webkvApp.engine()!.memory());
    const expected: [string, number][] = [];
    for (const category of ["weights", "kv", "activations", "attention_scratch", "staging", "other", "total"] as const) {
      expected.push([`${category}.live`, report.measured[category].live], [`${category}.peak`, report.measured[category].peak], [`${category}.predicted`, (report.predicted as unknown as Record<string, number>)[category]!]);
    }
    expect(shown).toEqual(expected);
    expect(report.measured.total.live).toBeGreaterThan(1_000_000);
    await shot("memory");
  });

  it("answers two chat turns on a ChatML model; the second prefills only its new tokens; the KV map draws the used blocks", async () => {
    await loadUrl("/models/chatml.gguf");
    await expectLoaded();
    await tab("chat");
    await page.fill("#chat-system", "you are a test");
    await page.fill("#chat-max-tokens", "12");
    const turn = async (text: string, count: number) => {
      await page.fill("#chat-input", text);
      await page.click("#chat-send");
      // done when the reply is in and Send is enabled again, or as soon as the app shows an error (named below)
      await page.waitForFunction(
        (n) => !document.getElementById("error")!.hidden || (document.querySelectorAll("#chat-transcript .message.assistant").length === n && !(document.getElementById("chat-send") as HTMLButtonElement).disabled),
        count,
        { timeout: 60_000 },
      );
      expect(await page.isHidden("#error") ? "" : await page.textContent("#error")).toBe("");
      return page.$eval("#chat-stats", (p) => {
        const data = (p as HTMLElement).dataset;
        return { text: p.textContent ?? "", prompt: Number(data.prompt), prefilled: Number(data.prefilled), cached: Number(data.cached) };
      });
    };
    const first = await turn("hello there", 1);
    expect(first.cached).toBe(0);
    expect(first.text).toMatch(/tok\/s decode/);
    const second = await turn("and what next", 2);
    // the whole first prompt came from the cache; only the reply's re-rendering and the new turn were computed
    expect(second.cached).toBeGreaterThanOrEqual(first.prompt);
    expect(second.prefilled).toBe(second.prompt - second.cached);
    expect(second.prefilled).toBeLessThan(second.prompt / 2);
    const replies = await page.$$eval("#chat-transcript .message.assistant .content", (nodes) => nodes.map((n) => n.textContent ?? ""));
    expect(replies.every((r) => r.length > 0)).toBe(true);
    await shot("chat");
    await page.setViewportSize({ width: 480, height: 800 });
    await shot("chat-narrow");
    await page.setViewportSize({ width: 1280, height: 800 });

    await tab("kv");
    await page.click("#kv-refresh");
    await page.waitForSelector("#kv-grid");
    const map = await page.evaluate(() => webkvApp.engine()!.kv());
    const used = await page.$$eval("#kv-grid div[data-used=true]", (cells) => cells.length);
    const total = await page.$$eval("#kv-grid div", (cells) => cells.length);
    expect(map.sequences).toHaveLength(1);
    expect(map.blocksUsed).toBe(Math.ceil(map.sequences[0]!.tokens / map.blockSize));
    expect(used).toBe(map.blocksUsed);
    expect(total).toBe(map.blocksTotal);
    await shot("kv");
  });

  it("runs a small context sweep to charts and exports CSV and JSON", async () => {
    await tab("scaling");
    await page.fill("#sweep-contexts", "64,128,256");
    await page.fill("#sweep-generated", "4");
    await page.click("#sweep-run");
    await page.waitForFunction(() => /^done/.test(document.getElementById("sweep-status")!.textContent ?? ""), undefined, { timeout: 120_000 });
    const lines = await page.$$eval("#sweep-results svg polyline", (nodes) => nodes.map((n) => n.getAttribute("points")!.split(" ").length));
    expect(lines).toEqual([3, 3, 3, 3, 3, 3]); // 4 charts: two measured-only, two measured + predicted
    const csv = await page.evaluate(async () => (await fetch((document.getElementById("sweep-csv") as HTMLAnchorElement).href)).text());
    const rows = csv.trim().split("\n");
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^context,kv,attention/);
    const json = await page.evaluate(async () => (await fetch((document.getElementById("sweep-json") as HTMLAnchorElement).href)).json() as Promise<{ context: number; kv_bytes_measured: number }[]>);
    expect(json.map((p) => p.context)).toEqual([64, 128, 256]);
    expect(json[2]!.kv_bytes_measured).toBeGreaterThan(json[0]!.kv_bytes_measured);
    await shot("scaling");
  });

  it("estimates a preset's memory by category", async () => {
    await tab("estimator");
    await page.selectOption("#est-preset", "smollm2-135m");
    await page.click("#est-run");
    await page.waitForSelector("#est-table");
    expect(await page.textContent("#est-max-context")).toMatch(/\d+ tokens/);
    await shot("estimator");
  });

  it("logged no console errors but the deliberate 404 and asked no other host", () => {
    expect(consoleErrors.filter((e) => !/Failed to load resource.*404/.test(e))).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
