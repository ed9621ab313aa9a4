// Groups single requests into batches for work that is cheaper in bulk (KV
// commits, each a disk flush). While `maxInFlight` batches run, new keys wait
// and then go together, so a quiet caller still gets its batch of one at once.

export interface BatcherOptions {
  maxBatch: number;
  maxInFlight: number;
}

/**
 * `run` gets distinct keys and returns one result per key, in order. A key
 * added again while it waits shares the first one's result.
 */
export function createBatcher<K, R>(
  run: (keys: K[]) => Promise<R[]>,
  { maxBatch, maxInFlight }: BatcherOptions,
): (key: K) => Promise<R> {
  const waiting = new Map<K, PromiseWithResolvers<R>[]>();
  let running = 0;
  function pump() {
    while (running < maxInFlight && waiting.size) {
      const batch = [...waiting.entries()].slice(0, maxBatch);
      for (const [key] of batch) waiting.delete(key);
      running++;
      run(batch.map(([key]) => key)).then(
        (results) =>
          batch.forEach(([, ws], i) =>
            ws.forEach((w) => w.resolve(results[i]))
          ),
        (err) => batch.forEach(([, ws]) => ws.forEach((w) => w.reject(err))),
      ).finally(() => {
        running--;
        pump();
      });
    }
  }
  return (key) => {
    const waiter = Promise.withResolvers<R>();
    const list = waiting.get(key);
    if (list) list.push(waiter);
    else waiting.set(key, [waiter]);
    pump();
    return waiter.promise;
  };
}
