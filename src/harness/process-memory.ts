// An outside reading of GPU memory: the resident memory of Chromium's GPU process, read from /proc. With
// SwiftShader every GPU buffer is host memory inside that process, so its growth from before the model was
// loaded to the peak of a run is what the run really cost, whatever webkv's own counters say. On a real GPU
// the buffers live in VRAM, which this reading cannot see; there (and off Linux) it reports null and why.

import { readdir, readFile } from "node:fs/promises";

export interface ProcessMemorySample {
  pid: number;
  rssBytes: number;
  /** VmHWM: the process's peak resident size so far. */
  hwmBytes: number;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The GPU process of the browser whose command line names `userDataDir`. */
export async function findGpuProcess(userDataDir: string): Promise<number | undefined> {
  return (await findChromiumProcesses(userDataDir, "gpu-process"))[0];
}

/**
 * The child processes of one type ("gpu-process", "renderer", …) of the browser whose command line names
 * `userDataDir`: those whose ancestry reaches that browser (renderers hang off its zygote).
 */
export async function findChromiumProcesses(userDataDir: string, type: string): Promise<number[]> {
  if (process.platform !== "linux") return [];
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  const commandLines = new Map<number, string>();
  const parents = new Map<number, number>();
  await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readText(`/proc/${pid}/cmdline`);
      const stat = await readText(`/proc/${pid}/stat`);
      if (cmdline) commandLines.set(pid, cmdline.replaceAll("\0", " "));
      if (stat) parents.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    }),
  );
  const browsers = new Set([...commandLines].filter(([, cmd]) => cmd.includes(`--user-data-dir=${userDataDir}`) && !cmd.includes("--type=")).map(([pid]) => pid));
  const descendsFromBrowser = (pid: number) => {
    for (let at = parents.get(pid), hops = 0; at !== undefined && at > 1 && hops < 8; at = parents.get(at), hops++) if (browsers.has(at)) return true;
    return false;
  };
  return [...commandLines].filter(([pid, cmd]) => cmd.includes(`--type=${type}`) && (descendsFromBrowser(pid) || cmd.includes(userDataDir))).map(([pid]) => pid);
}

export async function sampleProcessMemory(pid: number): Promise<ProcessMemorySample | undefined> {
  const status = await readText(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { pid, rssBytes: kib("VmRSS"), hwmBytes: kib("VmHWM") };
}

export interface ObservedMemory {
  /** GPU-process resident bytes added from before the model was loaded to the run's peak. */
  gpuProcessDelta: number;
  /** … and to the end of the run (what stays resident once loading's transients are gone). */
  gpuProcessDeltaAtEnd: number;
  before: ProcessMemorySample;
  peakRssBytes: number;
  endRssBytes: number;
  samples: number;
  source: string;
}

/** A started monitor, or why there is none. */
export type GpuProcessWatch = GpuProcessMonitor | { unavailable: string };

/** Stops a watch: what the GPU process did meanwhile, or why it could not be read. */
export async function stopWatch(watch: GpuProcessWatch): Promise<ObservedMemory | { unavailable: string }> {
  return "unavailable" in watch ? watch : watch.stop();
}

/** Samples the GPU process every `intervalMs` from start() to stop(); the delta is peak − baseline. */
export class GpuProcessMonitor {
  private samples: ProcessMemorySample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly pid: number,
    private readonly before: ProcessMemorySample,
  ) {}

  /** A monitor, or the reason there is none. */
  static async start(userDataDir: string, intervalMs = 25): Promise<GpuProcessWatch> {
    if (process.platform !== "linux") return { unavailable: `no /proc on ${process.platform}: the GPU process's memory cannot be read` };
    const pid = await findGpuProcess(userDataDir);
    if (pid === undefined) return { unavailable: "Chromium's GPU process was not found" };
    const before = await sampleProcessMemory(pid);
    if (!before) return { unavailable: `could not read /proc/${pid}/status` };
    const monitor = new GpuProcessMonitor(pid, before);
    monitor.timer = setInterval(() => {
      void sampleProcessMemory(pid).then((sample) => sample && monitor.samples.push(sample));
    }, intervalMs);
    return monitor;
  }

  async stop(): Promise<ObservedMemory> {
    clearInterval(this.timer);
    const last = await sampleProcessMemory(this.pid);
    if (last) this.samples.push(last);
    // VmHWM catches a peak between samples when it rose above the baseline's high-water mark.
    const peakRss = Math.max(this.before.rssBytes, ...this.samples.map((s) => s.rssBytes), last && last.hwmBytes > this.before.hwmBytes ? last.hwmBytes : 0);
    const endRss = last?.rssBytes ?? peakRss;
    return {
      gpuProcessDelta: peakRss - this.before.rssBytes,
      gpuProcessDeltaAtEnd: endRss - this.before.rssBytes,
      before: this.before,
      peakRssBytes: peakRss,
      endRssBytes: endRss,
      samples: this.samples.length,
      source: `VmRSS of Chromium's GPU process (pid ${this.pid}) from /proc, sampled every 25 ms`,
    };
  }
}
