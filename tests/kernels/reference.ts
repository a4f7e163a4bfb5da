// CPU references for the kernels, written from the definitions in float64: each kernel test compares the
// GPU result of the real wrapper with these.

/** y[t, r] = Σ_c W[r, c] x[t, c] (+ y0).  W: [rows, cols] (dequantized), x: [n, cols]. */
export function matmulRef(w: Float32Array, rows: number, cols: number, x: Float32Array, n: number, y0?: Float32Array): Float64Array {
  const y = new Float64Array(n * rows);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < rows; r++) {
      let sum = y0 ? y0[t * rows + r]! : 0;
      for (let c = 0; c < cols; c++) sum += w[r * cols + c]! * x[t * cols + c]!;
      y[t * rows + r] = sum;
    }
  }
  return y;
}

export function rmsnormRef(x: Float32Array, g: Float32Array, dim: number, eps: number, rows: number[]): Float64Array {
  const y = new Float64Array(rows.length * dim);
  rows.forEach((src, r) => {
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += x[src * dim + c]! ** 2;
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let c = 0; c < dim; c++) y[r * dim + c] = x[src * dim + c]! * scale * g[c]!;
  });
  return y;
}

/**
 * Rotates pairs of each head by angle = pos · base^(−2i/ropeDim), i < ropeDim/2: adjacent pairs (2i, 2i+1),
 * or with `neox` the split halves (i, i + ropeDim/2). Dims past ropeDim stay as they are.
 */
export function ropeRef(
  v: Float32Array, heads: number, headDim: number, ropeDim: number, base: number, positions: number[], neox = false,
): Float64Array {
  const out = Float64Array.from(v);
  positions.forEach((pos, t) => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < ropeDim / 2; i++) {
        const angle = pos * Math.pow(base, (-2 * i) / ropeDim);
        const head = (t * heads + h) * headDim;
        const first = head + (neox ? i : 2 * i);
        const second = head + (neox ? i + ropeDim / 2 : 2 * i + 1);
        const a = v[first]!;
        const b = v[second]!;
        out[first] = a * Math.cos(angle) - b * Math.sin(angle);
        out[second] = a * Math.sin(angle) + b * Math.cos(angle);
      }
    }
  });
  return out;
}

export function swigluRef(gate: Float32Array, up: Float32Array): Float64Array {
  return Float64Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
}

/** GeGLU with the tanh form of GELU: ½·g·(1 + tanh(√(2/π)·(g + 0.044715·g³)))·up. */
export function gegluRef(gate: Float32Array, up: Float32Array): Float64Array {
  return Float64Array.from(gate, (g, i) => 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3))) * up[i]!);
}

/** RMSNorm of each head row [rows·heads, headDim] with one weight vector of headDim. */
export function headNormRef(v: Float32Array, g: Float32Array, headDim: number, eps: number): Float64Array {
  const rows = v.length / headDim;
  return rmsnormRef(v, g, headDim, eps, [...Array(rows).keys()]);
}

/**
 * Causal (optionally windowed) grouped-query attention for a sequence's new tokens.
 *   q: [numNew, qHeads·headDim]   k, v: [contextLen + numNew, kvHeads·headDim] (all positions)
 */
export function attentionRef(
  q: Float32Array, k: Float32Array, v: Float32Array, contextLen: number, numNew: number,
  qHeads: number, kvHeads: number, headDim: number, window: number, scale = 1 / Math.sqrt(headDim), softcap = 0,
): Float64Array {
  const out = new Float64Array(numNew * qHeads * headDim);
  const group = qHeads / kvHeads;
  for (let t = 0; t < numNew; t++) {
    const pos = contextLen + t;
    const first = window > 0 ? Math.max(0, pos + 1 - window) : 0;
    for (let h = 0; h < qHeads; h++) {
      const kvh = Math.floor(h / group);
      const scores: number[] = [];
      for (let j = first; j <= pos; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[(t * qHeads + h) * headDim + d]! * k[(j * kvHeads + kvh) * headDim + d]!;
        scores.push(softcap > 0 ? softcap * Math.tanh((dot * scale) / softcap) : dot * scale);
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        exps.forEach((e, i) => (acc += (e / sum) * v[((first + i) * kvHeads + kvh) * headDim + d]!));
        out[(t * qHeads + h) * headDim + d] = acc;
      }
    }
  }
  return out;
}

/** Rounds to the nearest integer, ties to even (WGSL's round). */
function roundTiesEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * x [n, cols] quantized as shaders/quantize_x.wgsl does, in f32 steps: per 32 values d = max|x| / 127,
 * q = round(x · (1/d)) ties to even (0 where d = 0); also Σ q per block.
 */
export function quantizeXRef(x: Float32Array, cols: number, n: number): { q: Int8Array; d: Float32Array; sums: Int32Array } {
  const blocks = cols / 32;
  const q = new Int8Array(n * cols);
  const d = new Float32Array(n * blocks);
  const sums = new Int32Array(n * blocks);
  for (let t = 0; t < n; t++) {
    for (let b = 0; b < blocks; b++) {
      const at = t * cols + b * 32;
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[at + j]!));
      const scale = Math.fround(amax / 127);
      const inverse = scale > 0 ? Math.fround(1 / scale) : 0;
      d[t * blocks + b] = scale;
      for (let j = 0; j < 32; j++) {
        const value = roundTiesEven(Math.fround(x[at + j]! * inverse));
        q[at + j] = value;
        sums[t * blocks + b] = sums[t * blocks + b]! + value;
      }
    }
  }
  return { q, d, sums };
}

/** y = W·x with x quantized per quantizeXRef (each block's dot product scaled by its d), in f64; W dequantized. */
export function matmulInt8InputRef(w: Float32Array, rows: number, cols: number, x: Float32Array, n: number, y0?: Float32Array): Float64Array {
  const { q, d } = quantizeXRef(x, cols, n);
  const y = new Float64Array(n * rows);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < rows; r++) {
      let sum = y0 ? y0[t * rows + r]! : 0;
      for (let b = 0; b < cols / 32; b++) {
        let block = 0;
        for (let j = 0; j < 32; j++) block += w[r * cols + b * 32 + j]! * q[t * cols + b * 32 + j]!;
        sum += block * d[t * (cols / 32) + b]!;
      }
      y[t * rows + r] = sum;
    }
  }
  return y;
}
