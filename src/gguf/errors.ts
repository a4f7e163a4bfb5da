// One error class for every way a GGUF file (or a model built from one) can be wrong.
// `code` is stable and tested; the message names the problem, the offset and the value found.

export type GgufErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "truncated"
  | "count_too_large"
  | "string_too_long"
  | "bad_utf8"
  | "unknown_value_type"
  | "duplicate_key"
  | "bad_alignment"
  | "bad_tensor_dims"
  | "unknown_tensor_type"
  | "duplicate_tensor"
  | "tensor_misaligned"
  | "tensor_out_of_bounds"
  | "tensor_overlap"
  | "bad_metadata"
  | "missing_key"
  | "missing_tensor"
  | "shape_mismatch"
  | "unsupported_tensor_type"
  | "unsupported_architecture"
  | "unexpected_tensor"
  | "non_finite_weights"
  | "source_error";

export class GgufError extends Error {
  readonly code: GgufErrorCode;
  constructor(code: GgufErrorCode, message: string) {
    super(message);
    this.name = "GgufError";
    this.code = code;
  }
}
