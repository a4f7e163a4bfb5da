// Runs a command against a model loaded in the page: resolve --model, start Chromium, load with a
// progress line on stderr, run, and always shut the browser down.

import { existsSync } from "node:fs";
import type { LoadResult } from "../app/runtime.js";
import { GpuProcessMonitor, stopWatch, type ObservedMemory } from "../harness/process-memory.js";
import { DawnSession } from "../harness/dawn.js";
import type { RuntimeHost } from "../harness/host.js";
import { BrowserSession } from "../harness/session.js";
import type { ModelLoadOptions } from "../model/forward.js";
import { resolveModel } from "./models.js";
import { KvFormatError, parseKvSection, type KvCacheFormat } from "../kv/formats.js";
import { choiceOption, intOption, parseBytes, UsageError, type ParsedValues } from "./options.js";

export interface LoadedInBrowser {
  /** The page in Chromium (default), or this process on Dawn with --backend dawn. */
  session: RuntimeHost;
  loaded: LoadResult;
  modelPath: string;
  /** Stops watching the GPU process (started before the load) and returns what it saw, or why it could not. */
  observed: () => Promise<ObservedMemory | { unavailable: string }>;
  /**
   * What Ctrl-C does while the command runs. By default it closes the browser (removing its profile) and
   * exits with 130; a command that handles it itself (webkv chat stops a reply) sets its own.
   */
  onInterrupt: (handler: (() => void) | undefined) => void;
}

/** --kv-budget: a size (512MiB, 2GB, 1e9) or a fraction of what the adapter allows (0.5, 50%). */
function kvBudget(values: ParsedValues): Pick<ModelLoadOptions, "kvBudgetBytes" | "kvBudgetFraction"> {
  const raw = values["kv-budget"];
  if (typeof raw !== "string") return {};
  const percent = /^\s*([\d.]+)\s*%\s*$/.exec(raw);
  const fraction = percent ? Number(percent[1]) / 100 : /^\s*0?\.\d+\s*$|^\s*1(\.0*)?\s*$/.test(raw) ? Number(raw) : undefined;
  if (fraction !== undefined) {
    if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--kv-budget as a fraction must be in (0, 1], got "${raw}"`);
    return { kvBudgetFraction: fraction };
  }
  return { kvBudgetBytes: parseBytes(raw, "kv-budget") };
}

/** --kv FMT sets K and V; --kv-k / --kv-v set one each (f32, f16, int8, int4, int8-token, int4-channel…). */
export function kvFormatFrom(values: ParsedValues): KvCacheFormat | undefined {
  const both = values.kv as string | undefined;
  const k = (values["kv-k"] as string | undefined) ?? both;
  const v = (values["kv-v"] as string | undefined) ?? both;
  if (k === undefined && v === undefined) return undefined;
  try {
    return { k: parseKvSection(k ?? "f32", "k"), v: parseKvSection(v ?? "f32", "v") };
  } catch (error) {
    if (error instanceof KvFormatError) throw new UsageError(error.message);
    throw error;
  }
}

export function loadOptionsFrom(values: ParsedValues, minSeqs = 1): Omit<ModelLoadOptions, "onProgress"> {
  if (values["kv-blocks"] !== undefined && values["kv-budget"] !== undefined) throw new UsageError("give --kv-blocks or --kv-budget, not both");
  const blockSize = intOption(values, "block-size", 1);
  if (blockSize !== undefined && blockSize > 1024) throw new UsageError(`--block-size must be 1..1024 tokens, got ${blockSize}`);
  return {
    kvBlockSize: blockSize,
    kvBlocks: intOption(values, "kv-blocks", 1),
    kvFormat: kvFormatFrom(values),
    ...kvBudget(values),
    maxSeqs: Math.max(minSeqs, intOption(values, "max-seqs", 1, 1)!),
    maxStepTokens: intOption(values, "max-step-tokens", 1),
    attention: choiceOption(values, "attention", ["flash", "naive"] as const, "flash"),
    maxBindingBytes: intOption(values, "max-binding-bytes", 256),
    contextSize: intOption(values, "context", 1),
  };
}

export function progressLine(quiet: boolean): (message: string) => void {
  if (quiet || !process.stderr.isTTY) return () => undefined;
  return (message) => process.stderr.write(`\r\x1b[K${message}`);
}

/** Ctrl-C before the model ran: nothing was produced; exit 130. */
export class AbortedError extends Error {
  readonly code = "aborted";
}

export async function withModelInBrowser<T>(
  values: ParsedValues,
  run: (context: LoadedInBrowser) => Promise<T>,
  minSeqs = 1,
): Promise<T> {
  const spec = values.model;
  if (typeof spec !== "string") throw new UsageError("--model is required (a .gguf path, a URL, or a name such as stories260K)");
  const backend = choiceOption(values, "gpu", ["swiftshader", "real"] as const, "swiftshader");
  const host = choiceOption(values, "backend", ["chromium", "dawn"] as const, "chromium");
  if (host === "dawn" && values.headed === true) throw new UsageError("--headed needs Chromium: --backend dawn has no window");
  const quiet = values.json === true;
  const progress = progressLine(quiet);
  const { path } = await resolveModel(spec, progress);
  if (typeof values.chromium === "string" && !existsSync(values.chromium)) {
    throw new UsageError(`--chromium ${values.chromium}: no such file (install Debian's chromium, or point --chromium at a Chromium or Chrome binary)`);
  }
  // Ctrl-C from here on: until the model is loaded it is noted, and the command ends with 130 once the browser is
  // closed; then the command's own handler (onInterrupt) decides.
  let interruptHandler: (() => void) | undefined;
  let abortRequested = false;
  const interrupted = () => {
    if (interruptHandler) return interruptHandler();
    if (abortRequested) process.exit(130); // a second Ctrl-C does not wait for the cleanup
    abortRequested = true; // the load ends, then the browser is closed below and the command exits with 130
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  let session: RuntimeHost;
  const chromiumPath = typeof values.chromium === "string" ? values.chromium : undefined;
  try {
    session = host === "dawn"
      ? await DawnSession.start({ gpu: backend === "real" ? "gpu" : "swiftshader", chromiumPath })
      : await BrowserSession.start({
          executablePath: chromiumPath,
          backend: backend === "real" ? "gpu" : "swiftshader",
          headed: values.headed === true,
          debug: values.debug === true,
        });
  } catch (error) {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    throw error;
  }
  const unsubscribe = session.onEvent((event) => {
    if (event.type === "progress") progress(`${event.message} ${(event.fraction * 100).toFixed(0)}%`);
  });
  // The outside reading: SwiftShader keeps GPU buffers in the GPU process's RAM; a real GPU keeps them in VRAM.
  const monitor = session instanceof BrowserSession
    ? backend === "real"
      ? { unavailable: "a real GPU: its buffers live in VRAM, which the GPU process's resident memory does not show, and no vendor counter is read" }
      : await GpuProcessMonitor.start(session.chromium.userDataDir)
    : { unavailable: "the Dawn backend runs in this process: no separate GPU process to read" };
  const observed = () => stopWatch(monitor);
  const onInterrupt = (handler: (() => void) | undefined) => (interruptHandler = handler);
  try {
    if (abortRequested) throw new AbortedError("interrupted before the model ran");
    const loaded = await session.call<LoadResult>("load", { url: session.publishFile(path), options: loadOptionsFrom(values, minSeqs) });
    if (abortRequested) throw new AbortedError("interrupted before the model ran");
    progress("");
    if (!quiet && process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    unsubscribe();
    return await run({ session, loaded, modelPath: path, observed, onInterrupt });
  } finally {
    interruptHandler = () => undefined; // closing now: a Ctrl-C here waits for the profile to be removed
    unsubscribe();
    await stopWatch(monitor);
    await session.close();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}
