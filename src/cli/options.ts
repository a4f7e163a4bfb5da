// Command-line options shared by the commands that run the model, and strict parsing of their values:
// a bad value is an error naming the option and what it accepts.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { validateSampling, type SamplingOptions } from "../engine/sampler.js";

export class UsageError extends Error {
  readonly code = "usage";
}

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Chromium and GPU: how the runtime's page is started. */
export const BROWSER_OPTIONS: OptionSpec = {
  chromium: { type: "string" },
  backend: { type: "string" }, // chromium | dawn
  gpu: { type: "string" }, // swiftshader | real
  headed: { type: "boolean" },
  debug: { type: "boolean" },
};

/** How the model is laid out on the GPU. */
export const MODEL_OPTIONS: OptionSpec = {
  model: { type: "string", short: "m" },
  "block-size": { type: "string" },
  "kv-blocks": { type: "string" },
  "kv-budget": { type: "string" },
  kv: { type: "string" },
  "kv-k": { type: "string" },
  "kv-v": { type: "string" },
  "max-seqs": { type: "string" },
  "max-step-tokens": { type: "string" },
  attention: { type: "string" },
  "max-binding-bytes": { type: "string" },
  context: { type: "string" },
  json: { type: "boolean" },
};

export const SAMPLING_OPTIONS: OptionSpec = {
  temperature: { type: "string" },
  "top-k": { type: "string" },
  "top-p": { type: "string" },
  seed: { type: "string" },
};

export type ParsedValues = Record<string, string | boolean | undefined>;

/** --temperature, --top-k, --top-p, --seed, checked (a bad value is a SamplingError: a usage error). */
export function samplingFrom(values: ParsedValues): Required<SamplingOptions> {
  return validateSampling({
    temperature: numberOption(values, "temperature"),
    topK: intOption(values, "top-k", 0),
    topP: numberOption(values, "top-p"),
    seed: intOption(values, "seed", 0),
  });
}

/** Strict parsing: an unknown option, a missing value or a stray word (an unquoted prompt) is a usage error. */
export function parse(argv: string[], options: OptionSpec): { values: ParsedValues; positionals: string[] } {
  let parsed: { values: unknown; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `unexpected argument "${parsed.positionals[0]}"` +
        (parsed.positionals.length > 1 ? ` (and ${parsed.positionals.length - 1} more)` : "") +
        `: every value belongs to an option; quote text with spaces, e.g. --prompt "Once upon a time"`,
    );
  }
  return { values: parsed.values as ParsedValues, positionals: [] };
}

export function intOption(values: ParsedValues, name: string, min: number, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(value) || value < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(raw)}"`);
  }
  return value;
}

export function numberOption(values: ParsedValues, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number, got "${String(raw)}"`);
  }
  return value;
}

export function choiceOption<T extends string>(values: ParsedValues, name: string, choices: readonly T[], fallback: T): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !choices.includes(raw as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${String(raw)}"`);
  }
  return raw as T;
}

/** "1,2,3" → [1, 2, 3]: non-negative integers only. */
export function idListOption(values: ParsedValues, name: string): number[] | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const parts = String(raw).split(",").map((p) => p.trim()).filter((p) => p !== "");
  const ids = parts.map(Number);
  const bad = parts.find((p, i) => !Number.isInteger(ids[i]) || ids[i]! < 0);
  if (bad !== undefined || ids.length === 0) throw new UsageError(`--${name} must be comma-separated token ids, got "${String(raw)}"`);
  return ids;
}

/** "24GiB", "512MB", "1e9" → bytes. */
export function parseBytes(text: string, optionName: string): number {
  const match = /^\s*([\d.]+(?:e\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$/i.exec(text);
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4 };
  if (!match) throw new UsageError(`--${optionName} must be a size like 512MiB or 24GB, got "${text}"`);
  const bytes = Number(match[1]) * units[(match[2] ?? "b").toLowerCase()]!;
  if (!Number.isFinite(bytes) || bytes <= 0) throw new UsageError(`--${optionName} must be a positive size, got "${text}"`);
  return Math.floor(bytes);
}
