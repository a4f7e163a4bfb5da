// GPU time per kernel with timestamp queries: each profiled dispatch gets its own compute pass with
// begin/end timestamps. Used by benches to see where a step's time goes; off in normal runs.

export class GpuProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;
  private labels: string[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly capacity = 2048, // passes per step: 2 timestamps each, within the 4096-query limit
  ) {
    this.querySet = device.createQuerySet({ type: "timestamp", count: capacity * 2 });
    this.resolve = device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** A compute pass whose start and end are timestamped under `label`; undefined once full. */
  beginPass(encoder: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    if (this.labels.length >= this.capacity) return encoder.beginComputePass({ label });
    const index = this.labels.length;
    this.labels.push(label);
    return encoder.beginComputePass({
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: index * 2, endOfPassWriteIndex: index * 2 + 1 },
    });
  }

  /** Resolves the queries recorded so far (call on the same encoder before finish). */
  encodeResolve(encoder: GPUCommandEncoder): void {
    const count = this.labels.length * 2;
    if (count === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, count * 8);
  }

  /** Milliseconds per label (summed over repeats), after the resolving submit. */
  async collect(): Promise<Record<string, number>> {
    const count = this.labels.length * 2;
    const totals: Record<string, number> = {};
    if (count > 0) {
      await this.readback.mapAsync(GPUMapMode.READ, 0, count * 8);
      const times = new BigUint64Array(this.readback.getMappedRange(0, count * 8).slice(0));
      this.readback.unmap();
      this.labels.forEach((label, i) => {
        const ns = Number(times[i * 2 + 1]! - times[i * 2]!);
        totals[label] = (totals[label] ?? 0) + ns / 1e6;
      });
    }
    this.labels = [];
    return totals;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}
