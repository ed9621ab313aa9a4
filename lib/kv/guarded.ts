// The read–decide–commit loop every guarded write in the app runs: read the
// records, decide, commit with a check of each record read; a commit that
// fails its checks lost a race with another writer, so read again and decide
// again. Written once here; each caller says only what one attempt does.

export interface GuardedOptions<T> {
  /** How many attempts before giving up. */
  tries: number;
  /** The answer once every attempt lost its race. */
  exhausted: () => T;
  /**
   * Wait a random while (up to 1, 2, 4 … 64 ms) after each lost race: a burst
   * on one hot record then spreads out instead of every contender retrying
   * in lockstep and most running out of tries.
   */
  backoff?: boolean;
}

/**
 * Runs `attempt` until it returns an answer. An attempt returns `undefined`
 * when its commit lost a race (the loop reads again), anything else to end.
 */
export async function retryGuarded<T>(
  attempt: (n: number) => Promise<T | undefined>,
  { tries, exhausted, backoff = false }: GuardedOptions<T>,
): Promise<T> {
  for (let n = 0; n < tries; n++) {
    const answer = await attempt(n);
    if (answer !== undefined) return answer;
    if (backoff) {
      const ms = Math.random() * 2 ** Math.min(n, 6);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
  return exhausted();
}
