// The app's one notion of "now". A leaf: it imports nothing, so every layer
// (mail, delivery, accounts, the server) can take a clock without pulling in
// what wires the app together. Tests pass their own (tests/helpers.ts).
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
