// Downloading a model file so that nothing unverified is ever cached: the bytes go to <target>.partial
// while their sha256 is computed, and the file moves to <target> only when that hash equals the expected
// one — the caller's (a manifest's, or one recorded earlier), else the one the host reports.
//
// The host's hash: the Hugging Face hub answers a resolve URL of an LFS file with a redirect whose
// x-linked-etag header is the LFS object's sha256 (quoted). Redirects are followed by hand so that header
// can be read; a hash is taken only when it is 64 hex digits (a git blob's sha1 ETag is not one).

import { createHash } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

export class DownloadVerificationError extends Error {
  readonly code = "download_unverified";
}

/** A download that failed (HTTP error, refused connection, stall, cut body after the retries); nothing is cached. */
export class DownloadFailedError extends Error {
  readonly code = "download_failed";
}

export interface DownloadOptions {
  /** The sha256 the file must have (lowercase hex); when absent the host must report one. */
  expectedSha256?: string;
  onProgress?: (loaded: number, total: number) => void;
  /** Give up on a connection that sends nothing for this long (default 30 s, or $WEBKV_DOWNLOAD_STALL_MS). */
  stallTimeoutMs?: number;
  /** Resumptions after a cut or stalled body (default 3): each asks for the rest with a Range request. */
  retries?: number;
}

const MAX_REDIRECTS = 10;

/** A failure worth another attempt: a cut or stalled body, a server error. Not: 4xx, a refused connection. */
class RetriableError extends Error {}

/**
 * Downloads `url` to `target` and returns its verified sha256. The body goes to target.partial while it is
 * hashed; a cut or stalled connection is resumed with a Range request for the rest (or restarted when the
 * server ignores ranges). On any failure nothing is left at target or target.partial, and the error — one
 * line — names the URL and the cache path.
 */
export async function downloadVerified(url: string, target: string, options: DownloadOptions = {}): Promise<string> {
  const stallMs = options.stallTimeoutMs ?? Number(process.env.WEBKV_DOWNLOAD_STALL_MS ?? 30_000);
  const retries = options.retries ?? 3;
  const partial = `${target}.partial`;
  await mkdir(dirname(target), { recursive: true });
  const file = await open(partial, "w");
  let hash = createHash("sha256");
  let loaded = 0;
  let expected = options.expectedSha256;
  try {
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const armStallTimer = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new RetriableError(`no data for ${(stallMs / 1000).toFixed(1)} s`)), stallMs);
      };
      try {
        armStallTimer();
        const { response, reportedSha256 } = await fetchFollowingRedirects(url, controller.signal, loaded);
        expected ??= reportedSha256;
        if (!expected) {
          await response.body?.cancel();
          throw new DownloadVerificationError(
            `${url} was not cached at ${target}: no sha256 is known for it and the host reported none (no x-linked-etag header); ` +
              `download it yourself and pass --model /path/to/file`,
          );
        }
        if (loaded > 0 && response.status !== 206) {
          // The server ignored the range: start over.
          hash = createHash("sha256");
          loaded = 0;
          await file.truncate(0);
        }
        const total = loaded + Number(response.headers.get("content-length") ?? 0);
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          armStallTimer();
          hash.update(chunk);
          await file.write(chunk, 0, chunk.length, loaded);
          loaded += chunk.length;
          options.onProgress?.(loaded, total);
        }
        if (total > loaded) throw new RetriableError(`the connection closed after ${loaded} of ${total} bytes`);
        break;
      } catch (error) {
        const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (error as Error);
        if (reason instanceof DownloadVerificationError || reason instanceof DownloadFailedError) throw reason;
        const retriable = reason instanceof RetriableError || /terminated|ECONNRESET|socket/i.test(String(reason.message));
        if (!retriable || attempt >= retries) {
          throw new DownloadFailedError(`${url} could not be downloaded to ${target}: ${reason.message}${attempt > 0 ? ` (after ${attempt} resumption(s))` : ""}`);
        }
      } finally {
        clearTimeout(timer);
      }
    }
  } catch (error) {
    await file.close();
    await rm(partial, { force: true });
    throw error;
  }
  await file.close();
  const digest = hash.digest("hex");
  if (digest !== expected) {
    await rm(partial, { force: true });
    const source = options.expectedSha256 ? "expected" : "the host reported";
    throw new DownloadVerificationError(`${url} was not cached at ${target}: its sha256 is ${digest} but ${source} ${expected}; removed the download`);
  }
  await rename(partial, target);
  return digest;
}

/** GET `url` (from byte `from` on, with a Range), following redirects by hand; the first sha256 a hop reports is kept. */
async function fetchFollowingRedirects(url: string, signal: AbortSignal, from: number): Promise<{ response: Response; reportedSha256?: string }> {
  let current = url;
  let reportedSha256: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await fetch(current, { redirect: "manual", signal, headers: from > 0 ? { range: `bytes=${from}-` } : {} });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      throw new Error(cause?.code === "ECONNREFUSED" ? "connection refused" : (cause?.message ?? (error as Error).message));
    }
    reportedSha256 ??= sha256OfEtag(response.headers.get("x-linked-etag"));
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (response.status >= 500) throw new RetriableError(`HTTP ${response.status}`);
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    return { response, reportedSha256 };
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}

/** The sha256 in an ETag value ("…", W/"…"), or undefined when it is not 64 hex digits. */
export function sha256OfEtag(etag: string | null): string | undefined {
  const value = etag?.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1").toLowerCase();
  return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined;
}
