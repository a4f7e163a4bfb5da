// How a kernel reads split-layout quants (Q8_0, Q4_0: shaders/weights.wgsl) from the storage buffer w_data, 16
// bytes at a time: texel t is words 4t … 4t+3 (a Q8_0 block i is texels 2i and 2i+1, a Q4_0 block texel i). Its
// twin shaders/weight_quants_texels.wgsl reads the same bytes from a texture; a wrapper includes one of the two
// (src/kernels/weight-quants.ts).

fn quant_texel(t: u32) -> vec4<u32> {
  let at = t * 4u;
  return vec4<u32>(w_data[at], w_data[at + 1u], w_data[at + 2u], w_data[at + 3u]);
}
