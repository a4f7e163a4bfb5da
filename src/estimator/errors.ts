// The one error the estimator throws for bad input: an impossible setting, an unknown format or preset,
// a model description that contradicts itself. The message names the field and the value.
// Callers (the CLI) turn it into exit code 2; anything else escaping the estimator is a bug.

export class EstimatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EstimatorError";
  }
}

/** Throws unless `value` is an integer ≥ `min`. */
export function requireInteger(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new EstimatorError(`${what} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}
