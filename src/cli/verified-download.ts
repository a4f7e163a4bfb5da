// Downloading a model file so that nothing unverified is ever cached: the bytes go to <target>.partial
// while their sha256 is computed, and the file moves to <target> only when that hash equals the expected
// one — the caller's (a manifest's, or one recorded earlier), else the one the host reports.
//
// The host's hash: the Hugging Face hub answers a resolve URL of an LFS file with a redirect whose
// x-linked-etag header is the LFS object's sha256 (quoted). Redirects are followed by hand so that header
// can be read; a hash is taken only when it is 64 hex digits (a git blob's sha1 ETag is not one).

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export class DownloadVerificationError extends Error {
  readonly code = "download_unverified";
}

export interface DownloadOptions {
  /** The sha256 the file must have (lowercase hex); when absent the host must report one. */
  expectedSha256?: string;
  onProgress?: (loaded: number, total: number) => void;
}

const MAX_REDIRECTS = 10;

/** Downloads `url` to `target` and returns its verified sha256; on any failure nothing is left at target or target.partial. */
export async function downloadVerified(url: string, target: string, options: DownloadOptions = {}): Promise<string> {
  const { response, reportedSha256 } = await fetchFollowingRedirects(url);
  const expected = options.expectedSha256 ?? reportedSha256;
  if (!expected) {
    await response.body?.cancel();
    throw new DownloadVerificationError(
      `${url} was not cached at ${target}: no sha256 is known for it and the host reported none (no x-linked-etag header); ` +
        `download it yourself and pass --model /path/to/file`,
    );
  }
  const partial = `${target}.partial`;
  await mkdir(dirname(target), { recursive: true });
  const hash = createHash("sha256");
  const total = Number(response.headers.get("content-length") ?? 0);
  let loaded = 0;
  const body = Readable.fromWeb(response.body as never);
  body.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    loaded += chunk.length;
    options.onProgress?.(loaded, total);
  });
  try {
    await pipeline(body, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw new Error(`download of ${url} failed: ${(error as Error).message}`);
  }
  const digest = hash.digest("hex");
  if (digest !== expected) {
    await rm(partial, { force: true });
    const source = options.expectedSha256 ? "expected" : "the host reported";
    throw new DownloadVerificationError(`${url} was not cached at ${target}: its sha256 is ${digest} but ${source} ${expected}; removed the download`);
  }
  await rename(partial, target);
  return digest;
}

/** GET `url`, following redirects by hand; the first sha256 a hop reports in x-linked-etag is kept. */
async function fetchFollowingRedirects(url: string): Promise<{ response: Response; reportedSha256?: string }> {
  let current = url;
  let reportedSha256: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await fetch(current, { redirect: "manual" });
    } catch (error) {
      throw new Error(`download of ${url} failed: ${(error as Error).cause ?? (error as Error).message}`);
    }
    reportedSha256 ??= sha256OfEtag(response.headers.get("x-linked-etag"));
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (!response.ok || !response.body) throw new Error(`download of ${url} failed: HTTP ${response.status}`);
    return { response, reportedSha256 };
  }
  throw new Error(`download of ${url} failed: more than ${MAX_REDIRECTS} redirects`);
}

/** The sha256 in an ETag value ("…", W/"…"), or undefined when it is not 64 hex digits. */
export function sha256OfEtag(etag: string | null): string | undefined {
  const value = etag?.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1").toLowerCase();
  return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined;
}
