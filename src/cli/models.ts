// Resolving --model: a local path, an http(s) URL, or a name from models/<name>.json. A named model is
// looked for in $WEBKV_MODELS, then in the download cache, then downloaded from its manifest URL; every
// file reached through a manifest has its sha256 checked. Offline, the error says what to give instead.

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

export interface ModelManifest {
  name: string;
  file: string;
  url: string | null;
  sha256: string;
  bytes: number;
  license: string;
  notes: string;
}

export class ModelResolutionError extends Error {
  readonly code = "model_not_found";
}

/** models/ in the package (found from dist/cli or from src/cli). */
export function manifestDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, "../../models"), resolve(here, "../models")]) {
    if (existsSync(candidate)) return candidate;
  }
  return resolve(here, "../../models");
}

export async function listManifests(): Promise<ModelManifest[]> {
  const dir = manifestDir();
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as ModelManifest));
}

export function cacheDir(): string {
  return process.env.WEBKV_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "webkv");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

async function download(url: string, target: string, onProgress?: (loaded: number, total: number) => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`download of ${url} failed: ${(error as Error).cause ?? (error as Error).message}`);
  }
  if (!response.ok || !response.body) throw new Error(`download of ${url} failed: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  let loaded = 0;
  const body = Readable.fromWeb(response.body as never);
  body.on("data", (chunk: Buffer) => {
    loaded += chunk.length;
    onProgress?.(loaded, total);
  });
  await pipeline(body, createWriteStream(partial));
  await rename(partial, target);
}

export interface ResolvedModel {
  path: string;
  manifest?: ModelManifest;
}

/** Turns --model into a local file path, downloading and checking it when needed. */
export async function resolveModel(spec: string, onProgress?: (message: string) => void): Promise<ResolvedModel> {
  if (/^https?:\/\//.test(spec)) {
    const target = join(cacheDir(), "urls", createHash("sha256").update(spec).digest("hex").slice(0, 16), spec.split("/").pop() || "model.gguf");
    if (!existsSync(target)) await download(spec, target, (l, t) => onProgress?.(`downloading ${spec}: ${(l / 1e6).toFixed(1)}${t ? `/${(t / 1e6).toFixed(1)}` : ""} MB`));
    return { path: target };
  }
  if (existsSync(spec)) return { path: resolve(spec) };

  const manifests = await listManifests();
  const manifest = manifests.find((m) => m.name.toLowerCase() === spec.toLowerCase());
  if (!manifest) {
    throw new ModelResolutionError(
      `"${spec}" is neither a file, a URL, nor a known model name (known: ${manifests.map((m) => m.name).join(", ")})`,
    );
  }
  const candidates = [
    ...(process.env.WEBKV_MODELS ? [join(process.env.WEBKV_MODELS, manifest.file)] : []),
    join(cacheDir(), manifest.file),
  ];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const digest = await sha256File(path);
    if (digest !== manifest.sha256) {
      throw new ModelResolutionError(`${path} does not match ${manifest.name}'s manifest: sha256 ${digest}, expected ${manifest.sha256}`);
    }
    return { path, manifest };
  }
  const where = `place ${manifest.file} in $WEBKV_MODELS (now ${process.env.WEBKV_MODELS ?? "unset"}) or pass --model /path/to/${manifest.file}`;
  if (!manifest.url) throw new ModelResolutionError(`${manifest.name} has no download URL: ${where}`);
  const target = join(cacheDir(), manifest.file);
  try {
    await download(manifest.url, target, (l, t) => onProgress?.(`downloading ${manifest.name}: ${(l / 1e6).toFixed(1)}/${(t / 1e6).toFixed(1)} MB`));
  } catch (error) {
    throw new ModelResolutionError(`${manifest.name} could not be downloaded (${(error as Error).message}): ${where}, or a URL with --model`);
  }
  const digest = await sha256File(target);
  if (digest !== manifest.sha256) {
    await rm(target, { force: true });
    throw new ModelResolutionError(`the download of ${manifest.url} has sha256 ${digest}, expected ${manifest.sha256}; removed it`);
  }
  return { path: target, manifest };
}
