// Structured logging: one line per event, readable by default, JSON for
// machines (LOG_FORMAT=json). Callers pass fields, never secrets.

export type LogFields = Record<string, unknown>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** False when lines at `level` are dropped: skip gathering their fields. */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  format: "text" | "json";
  level?: LogLevel;
  /** Where lines go; defaults to the console. Tests capture lines here. */
  write?: (level: LogLevel, line: string) => void;
}

const ORDER: Record<LogLevel, number> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
};

function writeConsole(level: LogLevel, line: string): void {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") {
    return /^[\w.:/@+-]*$/.test(value) && value !== ""
      ? value
      : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const min = ORDER[options.level ?? "info"];
  const write = options.write ?? writeConsole;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    if (options.format === "json") {
      const clean = Object.fromEntries(
        Object.entries(fields).map((
          [k, v],
        ) => [k, v instanceof Error ? v.message : v]),
      );
      write(level, JSON.stringify({ time, level, msg, ...clean }));
    } else {
      const rest = Object.entries(fields).map(([k, v]) =>
        `${k}=${formatValue(v)}`
      ).join(" ");
      write(
        level,
        `${time} ${level.toUpperCase()} ${msg}${rest ? " " + rest : ""}`,
      );
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled: (level) => ORDER[level] >= min,
  };
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({
  format: "text",
  write: () => {},
});
