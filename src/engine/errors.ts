// A request the runtime cannot serve as asked (an empty prompt, a token id outside the vocabulary, an option
// out of range, an unknown model or conversation): the caller's to fix, with a stable code.

export class RequestError extends Error {
  readonly code = "bad_request";
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}
