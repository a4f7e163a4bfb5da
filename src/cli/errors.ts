// How the CLI reports a failure: one line, `webkv <command>: <what went wrong and what to do>`, exit 2 for a
// usage error (a bad option or value, a missing or unreadable input file) and 1 for anything at run time; the
// stack only with --debug. With --json, stdout also gets `{"error": {"code", "message"}}` so a script reading
// JSON never gets nothing.

import { KvFormatError } from "../kv/formats.js";
import { SamplingError } from "../engine/sampler.js";
import { UsageError } from "./options.js";

export interface CliFailure {
  /** 2 usage, 1 runtime, 130 interrupted (Ctrl-C). */
  exitCode: 1 | 2 | 130;
  /** Stable code: the error's own (GgufError, page errors, …), or "usage", or "error". */
  code: string;
  /** One line. */
  message: string;
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory, not a file",
  ENOTDIR: "a part of the path is not a directory",
};

export function describeFailure(error: unknown): CliFailure {
  const e = error as { code?: unknown; message?: unknown; path?: unknown; syscall?: unknown };
  const oneLine = (text: string) => text.split("\n").map((line) => line.trim()).filter(Boolean).join(" — ");
  if (error instanceof UsageError || error instanceof SamplingError || error instanceof KvFormatError) {
    return { exitCode: 2, code: "usage", message: oneLine(error.message) };
  }
  // A file we were pointed at that cannot be read is the caller's to fix: a usage error.
  if (typeof e?.code === "string" && e.code in SYSTEM_ERRORS && typeof e.path === "string") {
    return { exitCode: 2, code: e.code, message: `cannot read ${e.path}: ${SYSTEM_ERRORS[e.code]}` };
  }
  const message = typeof e?.message === "string" && e.message !== "" ? e.message : String(error);
  if (e?.code === "aborted") return { exitCode: 130, code: "aborted", message: oneLine(message) };
  return { exitCode: 1, code: typeof e?.code === "string" ? e.code : "error", message: oneLine(message) };
}
