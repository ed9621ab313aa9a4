// Argon2id at its smallest cost, for the model test: it hashes thousands of
// passwords, and the app's 19 MiB hashes would turn a minute into ten. The
// stored strings are real Argon2id (verified by the app's own verifier);
// only the cost parameters differ. `holdNextVerify` lets a test stop a
// sign-in between reading the stored hash and creating its session.
import { argon2id } from "hash-wasm";
import {
  type PasswordHasher,
  verifyPassword,
} from "../../lib/security/passwords.ts";

export interface CheapHasher extends PasswordHasher {
  /**
   * The next verify waits until the returned `release` is called;
   * `reached` resolves once a verify has started waiting.
   */
  holdNextVerify(): { reached: Promise<void>; release: () => void };
}

function cheapHash(password: string): Promise<string> {
  return argon2id({
    password: password.normalize("NFKC"),
    salt: crypto.getRandomValues(new Uint8Array(16)),
    memorySize: 16,
    iterations: 1,
    parallelism: 1,
    hashLength: 32,
    outputType: "encoded",
  });
}

export async function createCheapHasher(): Promise<CheapHasher> {
  const dummy = await cheapHash("a dummy password nobody has");
  let hold: { reached: () => void; gate: Promise<void> } | null = null;
  return {
    backend: "wasm",
    queueLength: () => 0,
    hash: cheapHash,
    async verify(password, encoded) {
      if (hold) {
        const { reached, gate } = hold;
        hold = null;
        reached();
        await gate;
      }
      return await verifyPassword(password, encoded);
    },
    async verifyDummy(password) {
      await verifyPassword(password, dummy);
    },
    needsRehash: () => false,
    close() {},
    holdNextVerify() {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => reached = r);
      const gate = new Promise<void>((r) => release = r);
      hold = { reached, gate };
      return {
        reached: reachedP,
        release: () => {
          if (hold?.gate === gate) hold = null;
          release();
        },
      };
    },
  };
}
