// Structured logging: one line per event, readable by default, JSON for
// machines (LOG_FORMAT=json). Callers pass fields, never secrets. Lines go
// through a bounded buffer written to stdout asynchronously: a slow reader
// (a stalled log shipper, a full pipe) costs dropped lines, counted and
// reported, never a stalled server.

export type LogFields = Record<string, unknown>;
export type LogLevel = "debug" | "info" | "warn" | "error" | "notice";

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Start-up and shutdown: written whatever LOG_LEVEL says. */
  notice(msg: string, fields?: LogFields): void;
  /**
   * A block of text for people (a mail the console backend prints), at
   * notice level: under its own line in text, a `text` field in JSON.
   */
  print(msg: string, text: string): void;
  /** False when lines at `level` are dropped: skip gathering their fields. */
  enabled(level: LogLevel): boolean;
  /** Lines dropped since start because the buffer was full. */
  dropped(): number;
  /** Resolves once every buffered line is written (or `ms` passed). */
  flush(ms?: number): Promise<void>;
}

/** Where buffered lines go; Deno.stdout unless a test gives its own. */
export interface LogOutput {
  write(bytes: Uint8Array): Promise<number>;
}

export interface LoggerOptions {
  format: "text" | "json";
  level?: Exclude<LogLevel, "notice">;
  /** Takes each line synchronously, in place of the buffer; for tests. */
  write?: (level: LogLevel, line: string) => void;
  /** Where the buffer writes; defaults to Deno.stdout. */
  output?: LogOutput;
  /** Lines the buffer holds while the output is slow; more are dropped. */
  bufferLines?: number;
}

export const DEFAULT_LOG_BUFFER_LINES = 4096;

const ORDER: Record<LogLevel, number> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
  notice: 4,
};

const PLAIN = /^[\w.:/@+-]+$/;

function formatValue(value: unknown): string {
  return typeof value === "string" && PLAIN.test(value)
    ? value
    : JSON.stringify(value);
}

/** An error becomes its message, with its stack beside it under `<key>_stack`. */
function flatten(fields: LogFields): LogFields {
  let out: LogFields | null = null;
  for (const k in fields) {
    const v = fields[k];
    if (!(v instanceof Error)) continue;
    out ??= { ...fields };
    out[k] = v.message;
    if (v.stack && !(`${k}_stack` in fields)) out[`${k}_stack`] = v.stack;
  }
  return out ?? fields;
}

/** The time of a line; lines in the same millisecond share one string. */
function timestamps(): () => string {
  let ms = NaN;
  let text = "";
  return () => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      text = new Date(now).toISOString();
    }
    return text;
  };
}

/**
 * Info and debug lines wait this long before they are written, so a busy
 * server writes them in batches (one write for many requests, not one
 * each); warnings, errors and notices are written at once.
 */
const BATCH_MS = 10;

/**
 * Lines wait here for their batch, or while one write to the output is under
 * way; a full buffer drops the newest and counts them, and the count is told
 * (a line from `reportDrops`) after the next write succeeds.
 */
function createBuffer(
  output: LogOutput,
  maxLines: number,
  /** The line that tells how many were dropped; it is never dropped itself. */
  reportDrops: (dropped: number) => string,
) {
  const encoder = new TextEncoder();
  let lines: string[] = [];
  let droppedTotal = 0;
  let unreported = 0;
  let writing: Promise<void> | null = null;
  let batch: ReturnType<typeof setTimeout> | undefined;
  const writeNow = () => {
    clearTimeout(batch);
    batch = undefined;
    writing ??= drain();
  };

  async function drain(): Promise<void> {
    try {
      while (lines.length) {
        const batch = lines;
        lines = [];
        const bytes = encoder.encode(batch.join("\n") + "\n");
        for (let at = 0; at < bytes.length;) {
          at += await output.write(bytes.subarray(at));
        }
        if (unreported) {
          const count = unreported;
          unreported = 0;
          lines.push(reportDrops(count));
        }
      }
    } catch {
      // stdout is gone (closed pipe): nobody can read logs any more.
      droppedTotal += lines.length;
      lines = [];
    } finally {
      writing = null;
    }
  }

  return {
    push(line: string, urgent: boolean) {
      if (lines.length >= maxLines) {
        droppedTotal++;
        unreported++;
        return;
      }
      lines.push(line);
      if (writing) return; // the write under way takes it next
      if (urgent) writeNow();
      else batch ??= setTimeout(writeNow, BATCH_MS);
    },
    dropped: () => droppedTotal,
    async flush(ms: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let late = false;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          late = true;
          resolve();
        }, ms);
      });
      if (batch !== undefined) writeNow();
      try {
        // A write can start another (lines logged meanwhile): wait for all.
        while (writing && !late) await Promise.race([writing, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const min = ORDER[options.level ?? "info"];
  const time = timestamps();
  const format = (level: LogLevel, msg: string, fields: LogFields) => {
    const flat = flatten(fields);
    if (options.format === "json") {
      return JSON.stringify({ time: time(), level, msg, ...flat });
    }
    let line = `${time()} ${level.toUpperCase()} ${msg}`;
    for (const k in flat) line += ` ${k}=${formatValue(flat[k])}`;
    return line;
  };
  const buffer = options.write ? null : createBuffer(
    options.output ?? Deno.stdout,
    options.bufferLines ?? DEFAULT_LOG_BUFFER_LINES,
    (count) =>
      format("warn", "log lines dropped", { count, reason: "stdout too slow" }),
  );
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] < min) return;
    const line = format(level, msg, fields);
    if (buffer) buffer.push(line, ORDER[level] > ORDER.info);
    else options.write!(level, line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    notice: (m, f) => emit("notice", m, f),
    print: (m, text) => {
      if (options.format === "json") return emit("notice", m, { text });
      const line = `${format("notice", m, {})}\n${text}`;
      if (buffer) buffer.push(line, true);
      else options.write!("notice", line);
    },
    enabled: (level) => ORDER[level] >= min,
    dropped: () => buffer?.dropped() ?? 0,
    flush: (ms = 2_000) => buffer ? buffer.flush(ms) : Promise.resolve(),
  };
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({
  format: "text",
  write: () => {},
});
