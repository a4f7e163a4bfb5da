// How a kernel reads split-layout quants (Q8_0, Q4_0: shaders/weights.wgsl) from an rgba32uint texture, 16 bytes
// a fetch: texel t of the chunk at (t mod 2^k, t >> k), 2^k the texture's width (src/model/weight-layout.ts
// weightTexelShape; the kernel declares `fn weight_texel_width_log2() -> u32`, from the chunk's uniform). On
// SwiftShader a storage load is a gather per lane, 4 bytes each, where a texel fetch brings 16: webkv's Q8_0 decode
// matmul read 1.29× the weights a second as texels (bench/results/swiftshader-profile.md). The twin
// shaders/weight_quants_storage.wgsl reads w_data; a wrapper includes one of the two (src/kernels/weight-quants.ts),
// and binds the chunk's texture at WEIGHT_TEXELS_BINDING.

@group(0) @binding(WEIGHT_TEXELS_BINDING) var w_texels: texture_2d<u32>;

fn quant_texel(t: u32) -> vec4<u32> {
  let width_log2 = weight_texel_width_log2();
  return textureLoad(w_texels, vec2<u32>(t & ((1u << width_log2) - 1u), t >> width_log2), 0);
}
