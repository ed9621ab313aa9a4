// A KV that lets a test see each atomic commit before it happens: the keys it
// sets, sums and deletes, with a chance to hold it back. Tests of what goes
// into which commit, and of what a request must not wait for, share it.

/** One mutation of an atomic operation: its method and key. */
export interface Mutation {
  op: "set" | "sum" | "delete" | "min" | "max";
  key: Deno.KvKey;
}

const KEYED = new Set(["set", "sum", "delete", "min", "max"]);

/**
 * The same KV, except that each atomic commit first calls `beforeCommit`
 * with the mutations it holds (and waits for it).
 */
export function watchCommits(
  kv: Deno.Kv,
  beforeCommit: (mutations: Mutation[]) => void | Promise<void>,
): Deno.Kv {
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const mutations: Mutation[] = [];
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "commit") {
          return async () => {
            await beforeCommit(mutations);
            return await target.commit();
          };
        }
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (typeof prop === "string" && KEYED.has(prop)) {
            mutations.push({
              op: prop as Mutation["op"],
              key: args[0] as Deno.KvKey,
            });
          }
          const result = value.apply(target, args);
          return result === target ? proxy : result;
        };
      },
    });
    return proxy;
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
