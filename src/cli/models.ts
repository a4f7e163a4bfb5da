// Resolving --model: a local path, an http(s) URL, or a name from models/<name>.json. A named model is
// looked for in $WEBKV_MODELS, then in the download cache, then downloaded from its manifest URL.
//
// Nothing unverified enters the cache (verified-download.ts): a download moves into the cache only when
// its sha256 equals the known one — the manifest's, else the one recorded by an earlier verified
// download — or, when none is known, the one the host reports (the Hugging Face hub's x-linked-etag).
//
// "The manifest then records it": the models/ folder of an installed package may be read-only, so a
// sha256 learned from the host is written beside the cached file, <cache>/<file>.sha256 (sha256sum's
// format), and is the known hash from then on: a cached or $WEBKV_MODELS file is checked against it.
// A cached file with no known hash is downloaded again; a $WEBKV_MODELS file with none is used as is,
// as a path given with --model is.

import { createHash } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { DownloadFailedError, DownloadVerificationError, downloadVerified } from "./verified-download.js";

export interface ModelManifest {
  name: string;
  file: string;
  url: string | null;
  /** null when no trustworthy published hash was found: the first download is checked against the host's. */
  sha256: string | null;
  /** File size in bytes; null when unknown. */
  bytes: number | null;
  license: string;
  notes: string;
}

export class ModelResolutionError extends Error {
  readonly code: string = "model_not_found";
}

/** models/ in the package (found from dist/cli or from src/cli). */
export function manifestDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, "../../models"), resolve(here, "../models")]) {
    if (existsSync(candidate)) return candidate;
  }
  return resolve(here, "../../models");
}

export async function listManifests(dir = manifestDir()): Promise<ModelManifest[]> {
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

/** Where the verified sha256 of a cached file is recorded: beside it, as `<hash>  <file>`. */
export function sha256RecordPath(cachedFile: string): string {
  return `${cachedFile}.sha256`;
}

export async function readRecordedSha256(cachedFile: string): Promise<string | undefined> {
  const record = sha256RecordPath(cachedFile);
  if (!existsSync(record)) return undefined;
  const hash = (await readFile(record, "utf8")).trim().split(/\s+/)[0]?.toLowerCase();
  return hash && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

async function recordSha256(cachedFile: string, sha256: string): Promise<void> {
  await writeFile(sha256RecordPath(cachedFile), `${sha256}  ${basename(cachedFile)}\n`);
}

export interface ResolvedModel {
  path: string;
  manifest?: ModelManifest;
}

export interface ResolveOptions {
  /** The manifests to look names up in (default: models/ of the package). */
  manifests?: ModelManifest[];
}

/** Turns --model into a local file path, downloading and checking it when needed. */
export async function resolveModel(spec: string, onProgress?: (message: string) => void, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const megabytes = (label: string) => (loaded: number, total: number) =>
    onProgress?.(`downloading ${label}: ${(loaded / 1e6).toFixed(1)}${total ? `/${(total / 1e6).toFixed(1)}` : ""} MB`);

  if (/^https?:\/\//.test(spec)) {
    const target = join(cacheDir(), "urls", createHash("sha256").update(spec).digest("hex").slice(0, 16), spec.split("/").pop() || "model.gguf");
    const recorded = await readRecordedSha256(target);
    if (recorded && existsSync(target)) {
      await checkFile(target, recorded, `the sha256 recorded in ${sha256RecordPath(target)}`);
      return { path: target };
    }
    await fetchIntoCache(spec, target, recorded, megabytes(spec), (message) => message);
    return { path: target };
  }
  if (existsSync(spec)) {
    if (!statSync(spec).isFile()) throw new ModelResolutionError(`--model ${spec} is a directory, not a .gguf file`);
    return { path: resolve(spec) };
  }

  const manifests = options.manifests ?? (await listManifests());
  const manifest = manifests.find((m) => m.name.toLowerCase() === spec.toLowerCase());
  if (!manifest) {
    throw new ModelResolutionError(
      `"${spec}" is neither a file, a URL, nor a known model name (known: ${manifests.map((m) => m.name).join(", ")})`,
    );
  }
  const target = join(cacheDir(), manifest.file);
  const recorded = manifest.sha256 ? undefined : await readRecordedSha256(target);
  const known = manifest.sha256 ?? recorded;
  const knownFrom = manifest.sha256 ? `${manifest.name}'s manifest` : `the sha256 recorded in ${sha256RecordPath(target)}`;

  const local = process.env.WEBKV_MODELS ? join(process.env.WEBKV_MODELS, manifest.file) : undefined;
  if (local && existsSync(local)) {
    if (known) await checkFile(local, known, knownFrom);
    return { path: local, manifest };
  }
  if (known && existsSync(target)) {
    await checkFile(target, known, knownFrom);
    return { path: target, manifest };
  }

  const where = `place ${manifest.file} in $WEBKV_MODELS (now ${process.env.WEBKV_MODELS ?? "unset"}) or pass --model /path/to/${manifest.file}`;
  if (!manifest.url) throw new ModelResolutionError(`${manifest.name} has no download URL: ${where}`);
  await fetchIntoCache(manifest.url, target, known, megabytes(manifest.name), (message) => `${message}; ${where}, or a URL with --model`);
  return { path: target, manifest };
}

/** Downloads into the cache; a hash learned from the host is recorded beside the file. */
async function fetchIntoCache(
  url: string,
  target: string,
  expectedSha256: string | undefined,
  onProgress: (loaded: number, total: number) => void,
  explain: (message: string) => string,
): Promise<void> {
  let digest: string;
  try {
    digest = await downloadVerified(url, target, { expectedSha256, onProgress });
  } catch (error) {
    if (error instanceof DownloadVerificationError) throw error;
    if (error instanceof DownloadFailedError) throw new DownloadFailedError(explain(error.message));
    throw new ModelResolutionError(explain((error as Error).message));
  }
  if (!expectedSha256) await recordSha256(target, digest);
}

async function checkFile(path: string, expected: string, from: string): Promise<void> {
  const digest = await sha256File(path);
  if (digest !== expected) throw new ModelResolutionError(`${path} does not match ${from}: sha256 ${digest}, expected ${expected}`);
}
