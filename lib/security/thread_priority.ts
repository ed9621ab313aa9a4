// Hashing threads run at a lower CPU priority than the thread that answers
// requests, so a wave of sign-ups takes every core the pages leave idle and
// none they need: the kernel hands a core back to the page thread whenever
// it wakes. Linux only (per-thread nice values through libc, which needs
// --allow-ffi, as the native Argon2 addon does); elsewhere the hashing
// threads keep the normal priority and the caller says so.

/** The nice value of a hashing thread: well below the pages, not starved. */
export const HASHING_NICE = 10;

/**
 * Lowers the calling thread's priority to `nice`. Returns null when done, or
 * why it could not be (another OS, no FFI permission, libc refused).
 */
export function lowerThisThread(nice = HASHING_NICE): string | null {
  if (Deno.build.os !== "linux") return `not on Linux (${Deno.build.os})`;
  let libc: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
    // PRIO_PROCESS with a thread id: on Linux, nice is per thread.
    const rc = libc.symbols.setpriority(0, libc.symbols.gettid(), nice);
    return rc === 0 ? null : "setpriority failed";
  } catch (error) {
    return error instanceof Error
      ? error.message.split("\n")[0]
      : String(error);
  } finally {
    libc?.close();
  }
}

const SYMBOLS = {
  gettid: { parameters: [], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
} as const;
