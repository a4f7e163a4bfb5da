// The browser model cache, in the Origin Private File System (OPFS). Why OPFS and not the Cache API: a
// download is written to a file as it arrives and can be resumed from the bytes already on disk (the Cache
// API only stores whole Responses), and a cached model is read back as a File — a Blob whose slices are read
// on demand — so a model larger than 2 GB never becomes one ArrayBuffer.
//
// Layout, in the directory "webkv-models": <key>.gguf (complete, verified), <key>.partial (a download in
// progress), <key>.json (url, size, sha256). The key is derived from the URL. Nothing is used before its
// sha256 is checked: against the caller's (a catalog manifest's) when known, else the hash recorded when the
// file was downloaded — on every load, so a corrupted file is found and downloaded again.

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { DownloadError, IntegrityError, StorageFullError } from "./errors.js";
import type { LoadProgress } from "./progress.js";

const DIRECTORY = "webkv-models";
/** Bytes written between commits of the partial file (what survives a closed tab). */
const COMMIT_BYTES = 32 * 1024 * 1024;

export interface CachedModel {
  url: string;
  bytes: number;
  sha256: string;
}

export interface FetchModelOptions {
  /** Known sha256 (hex) of the file: the download must match it. */
  sha256?: string | null;
  /** Known size, checked against the storage quota before any request. */
  bytes?: number | null;
  onProgress?: (progress: LoadProgress) => void;
  /** Times an interrupted download is resumed with a Range request before giving up (default 3). */
  retries?: number;
}

async function directory(): Promise<FileSystemDirectoryHandle> {
  if (typeof navigator === "undefined" || !navigator.storage?.getDirectory) {
    throw new DownloadError("this browser has no Origin Private File System (navigator.storage.getDirectory) to cache models in");
  }
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIRECTORY, { create: true });
}

/** A short, file-name-safe key for a URL. */
export function cacheKey(url: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(url))).slice(0, 32);
}

async function fileIfExists(dir: FileSystemDirectoryHandle, name: string): Promise<FileSystemFileHandle | undefined> {
  try {
    return await dir.getFileHandle(name);
  } catch {
    return undefined;
  }
}

async function removeIfExists(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  await dir.removeEntry(name).catch(() => undefined);
}

async function readMeta(dir: FileSystemDirectoryHandle, key: string): Promise<CachedModel | undefined> {
  const handle = await fileIfExists(dir, `${key}.json`);
  if (!handle) return undefined;
  try {
    return JSON.parse(await (await handle.getFile()).text()) as CachedModel;
  } catch {
    return undefined;
  }
}

async function writeMeta(dir: FileSystemDirectoryHandle, key: string, meta: CachedModel): Promise<void> {
  const writable = await (await dir.getFileHandle(`${key}.json`, { create: true })).createWritable();
  await writable.write(JSON.stringify(meta));
  await writable.close();
}

/** Feeds a Blob through an incremental sha256, reporting progress as the "verify" phase. */
async function hashBlob(blob: Blob, hash: ReturnType<typeof sha256.create>, onBytes?: (bytes: number) => void): Promise<void> {
  const reader = blob.stream().getReader();
  let done = 0;
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    hash.update(value);
    done += value.byteLength;
    onBytes?.(done);
  }
}

function rate(bytes: number, since: number): number {
  const seconds = (performance.now() - since) / 1000;
  return seconds > 0 ? bytes / seconds : 0;
}

/**
 * The model at `url` as a File from the cache: verified and returned when cached, else downloaded (resuming
 * any partial download) and verified first.
 */
export async function fetchModel(url: string, options: FetchModelOptions = {}): Promise<File> {
  const dir = await directory();
  const key = cacheKey(url);
  const meta = await readMeta(dir, key);
  const cached = await fileIfExists(dir, `${key}.gguf`);
  const expected = options.sha256?.toLowerCase() ?? undefined;
  if (cached && meta) {
    const file = await cached.getFile();
    const want = expected ?? meta.sha256;
    const hash = sha256.create();
    const start = performance.now();
    await hashBlob(file, hash, (bytes) =>
      options.onProgress?.({ phase: "verify", bytes, total: file.size, fraction: bytes / file.size, bytesPerSecond: rate(bytes, start) }),
    );
    if (bytesToHex(hash.digest()) === want && file.size === meta.bytes) return file;
    // Corrupted (or a different file than the caller expects): drop it and download again.
    await removeIfExists(dir, `${key}.gguf`);
    await removeIfExists(dir, `${key}.json`);
  }
  return download(dir, key, url, expected, options);
}

async function checkQuota(url: string, needed: number): Promise<void> {
  const estimate = await navigator.storage.estimate?.();
  if (!estimate || estimate.quota === undefined || estimate.usage === undefined) return;
  const free = estimate.quota - estimate.usage;
  if (needed > free) {
    throw new StorageFullError(`${url} needs ${needed} more bytes of browser storage but this origin has ${free} free (quota ${estimate.quota}, used ${estimate.usage}): delete cached models or free disk space`);
  }
}

async function download(dir: FileSystemDirectoryHandle, key: string, url: string, expected: string | undefined, options: FetchModelOptions): Promise<File> {
  const partialName = `${key}.partial`;
  const partial = await dir.getFileHandle(partialName, { create: true });
  let have = (await partial.getFile()).size;
  if (options.bytes != null) await checkQuota(url, options.bytes - have);

  // Bytes already on disk from an earlier, interrupted download go through the hash first.
  const hash = sha256.create();
  if (have > 0) await hashBlob(await partial.getFile(), hash);

  const started = performance.now();
  let fetchedNow = 0;
  let total = options.bytes ?? 0;
  let attemptsLeft = options.retries ?? 3;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, have > 0 ? { headers: { Range: `bytes=${have}-` } } : undefined);
    } catch (error) {
      throw new DownloadError(`${url}: fetch failed: ${(error as Error).message}`);
    }
    if (response.status === 416 && have > 0) {
      // The partial file is already complete (or larger than the file): start over.
      await removeIfExists(dir, partialName);
      throw new DownloadError(`${url}: the server refused to resume at byte ${have} (HTTP 416); the partial download was removed, try again`);
    }
    if (!response.ok) throw new DownloadError(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
    const writeAt = have;
    if (have > 0 && response.status !== 206) {
      // The server ignored the Range request: the body is the whole file again.
      return restartWithoutRange(dir, key, url, expected, options, response);
    }
    const length = Number(response.headers.get("Content-Length") ?? NaN);
    const rangeTotal = response.headers.get("Content-Range")?.match(/\/(\d+)\s*$/)?.[1];
    total = rangeTotal !== undefined ? Number(rangeTotal) : Number.isFinite(length) ? writeAt + length : total;
    if (options.bytes == null && Number.isFinite(length)) {
      await checkQuota(url, length).catch(async (error: unknown) => {
        await response.body?.cancel();
        throw error;
      });
    }

    let writable = await partial.createWritable({ keepExistingData: true });
    await writable.seek(writeAt);
    let sinceCommit = 0;
    const reader = response.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writable.write(value);
        hash.update(value);
        have += value.byteLength;
        fetchedNow += value.byteLength;
        sinceCommit += value.byteLength;
        if (sinceCommit >= COMMIT_BYTES) {
          await writable.close();
          writable = await partial.createWritable({ keepExistingData: true });
          await writable.seek(have);
          sinceCommit = 0;
        }
        options.onProgress?.({ phase: "download", bytes: have, total, fraction: total > 0 ? have / total : 0, bytesPerSecond: rate(fetchedNow, started) });
      }
      await writable.close();
    } catch (error) {
      await writable.close().catch(() => undefined);
      if (attemptsLeft-- > 0) continue; // resume from `have` with a Range request
      throw new DownloadError(`${url}: download interrupted at byte ${have} of ${total} (${(error as Error).message}); it resumes from there next time`);
    }
    if (total > 0 && have < total) {
      if (attemptsLeft-- > 0) continue;
      throw new DownloadError(`${url}: the server sent ${have} of ${total} bytes; the download resumes from there next time`);
    }
    break;
  }
  return finish(dir, key, url, expected, bytesToHex(hash.digest()), partial);
}

async function restartWithoutRange(dir: FileSystemDirectoryHandle, key: string, url: string, expected: string | undefined, options: FetchModelOptions, response: Response): Promise<File> {
  const partial = await dir.getFileHandle(`${key}.partial`, { create: true });
  const writable = await partial.createWritable({ keepExistingData: false });
  const hash = sha256.create();
  const total = Number(response.headers.get("Content-Length") ?? 0);
  const started = performance.now();
  let have = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    await writable.write(value);
    hash.update(value);
    have += value.byteLength;
    options.onProgress?.({ phase: "download", bytes: have, total, fraction: total > 0 ? have / total : 0, bytesPerSecond: rate(have, started) });
  }
  await writable.close();
  return finish(dir, key, url, expected, bytesToHex(hash.digest()), partial);
}

async function finish(dir: FileSystemDirectoryHandle, key: string, url: string, expected: string | undefined, actual: string, partial: FileSystemFileHandle): Promise<File> {
  if (expected && actual !== expected) {
    await removeIfExists(dir, `${key}.partial`);
    throw new IntegrityError(`${url}: sha256 ${actual} is not the expected ${expected}; the download was discarded`);
  }
  const bytes = (await partial.getFile()).size;
  await removeIfExists(dir, `${key}.gguf`);
  await (partial as FileSystemFileHandle & { move(name: string): Promise<void> }).move(`${key}.gguf`);
  await writeMeta(dir, key, { url, bytes, sha256: actual });
  return (await dir.getFileHandle(`${key}.gguf`)).getFile();
}

/** Models in the cache (complete and verified at download), with their sizes. */
export async function listCachedModels(): Promise<CachedModel[]> {
  const dir = await directory();
  const models: CachedModel[] = [];
  for await (const [name] of (dir as FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (!name.endsWith(".json")) continue;
    const key = name.slice(0, -5);
    const meta = await readMeta(dir, key);
    if (meta && (await fileIfExists(dir, `${key}.gguf`))) models.push(meta);
  }
  return models.sort((a, b) => a.url.localeCompare(b.url));
}

/** Removes a cached model (and any partial download of it). Returns whether anything was there. */
export async function deleteCachedModel(url: string): Promise<boolean> {
  const dir = await directory();
  const key = cacheKey(url);
  const existed = Boolean(await fileIfExists(dir, `${key}.gguf`)) || Boolean(await fileIfExists(dir, `${key}.partial`));
  for (const suffix of [".gguf", ".partial", ".json"]) await removeIfExists(dir, key + suffix);
  return existed;
}
