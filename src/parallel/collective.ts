/**
 * One model's training step on several threads (issue #23, docs/threads.md): data parallel, the
 * batch cut into contiguous parts, one per thread, each thread a replica of the model. A step's
 * every reduction over the batch — a convolution's filter and bias gradients, batch norm's
 * statistics and its gradient's sums — is a sum of per-image partials added in image order
 * (0, 1, …, B − 1), whichever thread computed each image, so a run's log is the same bits for
 * 1, 2 or N threads. The loss sees the whole batch's logits (gathered), so every loss, region
 * losses and Lovász included, is the one-thread loss.
 *
 * A Collective is a thread's view of that: which images are its own, and `gather`, which gives
 * every image's partial in image order. Kernels ask for the active one (`batchCollective`) while
 * a trainer runs its step inside `withCollective`; outside it they run as before. One thread is
 * `localCollective`; several share a SharedArrayBuffer (`SharedCollective`).
 */

/** A thread's part of a data-parallel step. */
export interface Collective {
  /** This thread's index, 0 … size − 1, and the number of threads. */
  readonly rank: number;
  readonly size: number;
  /** Images in the whole batch. */
  readonly batch: number;
  /** This thread's images: first … first + count − 1 of the batch. */
  readonly first: number;
  readonly count: number;
  /**
   * Every image's partial, `words` 32-bit words each, in image order (batch × words): `local`
   * holds this thread's `count` partials. Blocks until every thread has given its own. The
   * result is valid until the second `gather` after this one.
   */
  gather(local: Int32Array, words: number): Int32Array;
}

/** Thread `rank`'s images of a batch cut into `size` contiguous parts (the first parts are the smaller). */
export function partOf(batch: number, size: number, rank: number): { first: number; count: number } {
  const first = Math.floor((rank * batch) / size);
  return { first, count: Math.floor(((rank + 1) * batch) / size) - first };
}

/** The one-thread collective: this thread has every image, and gather is the identity. */
export function localCollective(batch: number): Collective {
  return { rank: 0, size: 1, batch, first: 0, count: batch, gather: (local) => local };
}

let active: Collective | null = null;

/** Runs `body` (a training step's forward and backward passes) with `collective` active. */
export function withCollective<T>(collective: Collective, body: () => T): T {
  const previous = active;
  active = collective;
  try {
    return body();
  } finally {
    active = previous;
  }
}

/**
 * The active collective when `shape` is this thread's part of the batch (its first axis is the
 * part's image count, rank ≥ 2), else null: the kernel then reduces as it always has.
 */
export function batchCollective(shape: readonly number[]): Collective | null {
  return active != null && shape.length >= 2 && shape[0] === active.count ? active : null;
}

/**
 * Another thread stopped (an error, or it died) while this one waited for it: a consequence, whose
 * cause that thread reports.
 */
export class ThreadStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreadStopped';
  }
}

// The control words at the head of the shared buffer.
const ARRIVED = 0;
const GENERATION = 1;
const STOPPED = 2; // 0, or 1 + the rank that stopped
const WORDS = 16; // from here, each thread's words of the current call: the threads' steps agree
const MAX_THREADS = 256;
/** Loads of the generation before a thread sleeps at a barrier (tens of µs). */
const SPINS = 20_000;
const CONTROL_WORDS = WORDS + 2 * MAX_THREADS; // two halves, as the data's
/**
 * After the control words, each thread's last words (why it stopped): a byte length, then UTF-8.
 * Read without a message channel, so synchronously, by a trainer whose step just failed — in
 * Node and in a browser's Worker alike.
 */
const MESSAGE_WORDS = 128;

/** Bytes of a shared buffer for `size` threads whose two halves each hold `words` 32-bit words of partials. */
export function sharedBytes(words: number, size: number): number {
  return (CONTROL_WORDS + size * MESSAGE_WORDS + 2 * words) * 4;
}

export interface SharedCollectiveOptions {
  /** A barrier that waits longer than this for the other threads fails (default 10 min): a hang becomes an error. */
  timeoutMs?: number;
}

/**
 * Threads sharing `buffer` (of sharedBytes(capacity)): partials go to one half of the buffer,
 * the halves alternating by call, then a barrier (Atomics), then every thread reads them all.
 * Two halves make one barrier a call enough: a thread writes a half again only after every
 * thread has passed the barrier of the call in between, so after it read that half.
 */
export class SharedCollective implements Collective {
  readonly first: number;
  readonly count: number;
  private readonly control: Int32Array;
  private readonly messageWords: Int32Array;
  private readonly data: Int32Array;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private calls = 0;

  constructor(buffer: SharedArrayBuffer, readonly rank: number, readonly size: number, readonly batch: number, options: SharedCollectiveOptions = {}) {
    if (size > MAX_THREADS) throw new Error(`segloss threads: at most ${MAX_THREADS} threads, got ${size}`);
    ({ first: this.first, count: this.count } = partOf(batch, size, rank));
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.messageWords = new Int32Array(buffer, CONTROL_WORDS * 4, size * MESSAGE_WORDS);
    this.data = new Int32Array(buffer, (CONTROL_WORDS + size * MESSAGE_WORDS) * 4);
    this.capacity = Math.floor(this.data.length / 2);
    this.timeoutMs = options.timeoutMs ?? 600_000;
  }

  gather(local: Int32Array, words: number): Int32Array {
    if (this.batch * words > this.capacity) {
      this.stop();
      throw new Error(`segloss threads: a reduction of ${this.batch} × ${words} words does not fit the ${this.capacity} words shared between threads`);
    }
    const half = this.calls++ & 1;
    const base = half * this.capacity;
    const signatures = WORDS + half * MAX_THREADS;
    this.data.set(local.subarray(0, this.count * words), base + this.first * words);
    Atomics.store(this.control, signatures + this.rank, words);
    this.barrier();
    for (let r = 0; r < this.size; r++) {
      const theirs = Atomics.load(this.control, signatures + r);
      if (theirs !== words) {
        this.stop();
        throw new Error(`segloss threads: thread ${r} reduced ${theirs} words where thread ${this.rank} reduced ${words}, `
          + `at reduction ${this.calls}: the threads' steps went apart (a bug: please report it)`);
      }
    }
    return this.data.subarray(base, base + this.batch * words);
  }

  /**
   * Marks this thread stopped and wakes the others, whose waits then fail. `why` (a sentence
   * naming this thread) is kept for `messages()`; a thread's first word is the one kept.
   */
  stop(why?: string): void {
    if (why) this.say(why);
    Atomics.compareExchange(this.control, STOPPED, 0, this.rank + 1);
    Atomics.notify(this.control, GENERATION);
  }

  /** What the threads said as they stopped, in rank order. */
  messages(): string[] {
    const out: string[] = [];
    for (let r = 0; r < this.size; r++) {
      const slot = this.messageWords.subarray(r * MESSAGE_WORDS, (r + 1) * MESSAGE_WORDS);
      const length = Atomics.load(slot, 0);
      // TextDecoder takes no view of shared memory: the bytes are copied out first.
      if (length > 0) out.push(new TextDecoder().decode(new Uint8Array(slot.buffer, slot.byteOffset + 4, length).slice()));
    }
    return out;
  }

  private say(why: string): void {
    const slot = this.messageWords.subarray(this.rank * MESSAGE_WORDS, (this.rank + 1) * MESSAGE_WORDS);
    if (Atomics.load(slot, 0) !== 0) return;
    const room = (MESSAGE_WORDS - 1) * 4;
    let bytes = new TextEncoder().encode(why);
    if (bytes.length > room) bytes = new TextEncoder().encode(`${why.slice(0, room - 8)} …`).subarray(0, room);
    new Uint8Array(slot.buffer, slot.byteOffset + 4, bytes.length).set(bytes);
    Atomics.store(slot, 0, bytes.length);
  }

  /** Whether some thread stopped: the rank, else null. */
  stoppedRank(): number | null {
    const stopped = Atomics.load(this.control, STOPPED);
    return stopped === 0 ? null : stopped - 1;
  }

  private barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    this.failIfStopped();
    if (Atomics.add(c, ARRIVED, 1) === this.size - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    // A short spin first: most waits at a reduction are shorter than a sleep and its wake-up.
    for (let spin = 0; spin < SPINS; spin++) if (Atomics.load(c, GENERATION) !== generation) return;
    const deadline = performance.now() + this.timeoutMs;
    while (Atomics.load(c, GENERATION) === generation) {
      this.failIfStopped();
      if (performance.now() > deadline) {
        this.stop();
        throw new Error(`segloss threads: thread ${this.rank} waited ${Math.round(this.timeoutMs / 1000)} s for the others at a reduction; stopping`);
      }
      Atomics.wait(c, GENERATION, generation, 100);
    }
  }

  private failIfStopped(): void {
    const rank = this.stoppedRank();
    if (rank != null) throw new ThreadStopped(`segloss threads: thread ${rank} stopped${rank === this.rank ? '' : ` while thread ${this.rank} waited for it`}`);
  }
}
