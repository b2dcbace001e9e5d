/**
 * The experiment's randomness, independent of tfjs's: sfc32 (Chris Doty-Humphrey's "small fast
 * counting" generator, 128-bit state, passes PractRand to 2^42+ bytes), seeded through splitmix32
 * so that nearby seeds give unrelated streams. Same seed → same numbers on every engine, which is
 * what makes a run's log reproducible bit for bit.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` separates independent uses of one run seed (weights, batches, validation set). */
  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = () => {
      // splitmix32
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /**
   * The generator's 128-bit state (a, b, c, d as uint32): the lockstep engine (src/engine/lanes.ts)
   * continues this exact stream in wasm.
   */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable as float32. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Fills `out` with uniform [0, 1) floats. */
  fillUniform(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.nextFloat();
    return out;
  }

  /** 0 … n − 1 in a random order (Fisher–Yates from the last position down, one draw each). */
  shuffled(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.nextFloat() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}
