// Load progress as the library reports it: which phase, bytes done of the total, and speed.

export type LoadPhase = "download" | "verify" | "upload" | "compile";

export interface LoadProgress {
  phase: LoadPhase;
  bytes: number;
  total: number;
  /** bytes / total, 0..1 (0 when the total is not known yet). */
  fraction: number;
  bytesPerSecond: number;
}
