// A per-request object shaped like core's RequestState (20 fields): a copy, so that the preloads load nothing of core.
export class State {
  constructor(start) {
    this.route = undefined;
    this.error = undefined;
    this.requestBytes = 0;
    this.responseBytes = 0;
    this.excluded = false;
    this.done = false;
    this.pending = false;
    this.ended = false;
    this.status = 0;
    this.headAt = 0;
    this.finished = false;
    this.remembered = false;
    this.owner = undefined;
    this.scratch = undefined;
    this.url = undefined;
    this.span = undefined;
    this.recorder = null;
    this.start = start;
    this.method = 0;
    this.scheme = 0;
  }
}
