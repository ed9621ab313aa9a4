// bench/results.json keeps the latest run and the one before it, each with
// the load average it ran under; the README's performance table is written
// from it, between two markers, so the README always shows what the file
// holds. `deno task bench readme` rewrites the README from the file alone.
import { renderTable, type Row } from "./report.ts";

export interface Run {
  date: string;
  cores: number;
  deno: string;
  /** /proc/loadavg's 1, 5 and 15 minute figures, before and after the run. */
  loadAverage: { before: string; after: string };
  rows: Row[];
  /** Rows re-measured later by `deno task bench mail`, with their own load. */
  remeasured?: Record<
    string,
    { date: string; loadAverage: Run["loadAverage"] }
  >;
}

export interface Results {
  /** Newest first; at most two. */
  runs: Run[];
}

export const RESULTS = new URL("../results.json", import.meta.url);
const README = new URL("../../README.md", import.meta.url);
const START = "<!-- bench:runs:start (written by `deno task bench`) -->";
const END = "<!-- bench:runs:end -->";

/** /proc/loadavg's first three figures, or "unknown" off Linux. */
export async function loadAverage(): Promise<string> {
  try {
    const text = await Deno.readTextFile("/proc/loadavg");
    return text.split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

export async function readResults(path = RESULTS): Promise<Results> {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { runs: [] };
    throw err;
  }
  const old = raw as Partial<Results> & Partial<Run>;
  if (Array.isArray(old.runs)) return { runs: old.runs };
  // The one-run layout this file had before it kept two.
  return old.rows ? { runs: [old as Run] } : { runs: [] };
}

/** Puts `run` first and keeps the one before it. */
export async function recordRun(run: Run, path = RESULTS): Promise<Results> {
  const { runs } = await readResults(path);
  const results = { runs: [run, ...runs].slice(0, 2) };
  await Deno.writeTextFile(path, JSON.stringify(results, null, 2) + "\n");
  return results;
}

/** Replaces re-measured rows in the latest run, noting when and under what load. */
export async function replaceLatestRows(
  rows: Row[],
  when: { date: string; loadAverage: Run["loadAverage"] },
  path = RESULTS,
): Promise<Results> {
  const results = await readResults(path);
  const latest = results.runs[0];
  if (!latest) throw new Error("no full run in bench/results.json yet");
  const fresh = new Map(rows.map((r) => [r.scenario, r]));
  latest.rows = latest.rows.map((r) => fresh.get(r.scenario) ?? r);
  latest.remeasured = { ...latest.remeasured };
  for (const r of rows) latest.remeasured[r.scenario] = when;
  await Deno.writeTextFile(path, JSON.stringify(results, null, 2) + "\n");
  return results;
}

export function describeRun(run: Run): string {
  const goals = run.rows.filter((r) => !r.info);
  const met = goals.filter((r) => r.pass).length;
  const when = run.date.replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC");
  return `${when}, ${run.cores} cores, Deno ${run.deno}; load average ` +
    `(1, 5, 15 min) ${run.loadAverage.before} before, ` +
    `${run.loadAverage.after} after: **${met} of ${goals.length} goals met**`;
}

/**
 * Issue 14's figures (same two cores, quiet: load 0.3-1.5; wrk 1 thread, 16
 * connections, 8 s) beside the latest run's. The bench's connection counts
 * and durations differ, so these compare orders of magnitude and ratios.
 */
const ISSUE_14: {
  scenario: string;
  unit: string;
  before: string;
  peers: string;
  pick: "value" | "ratio";
}[] = [
  {
    scenario: "POST /register, with the GET probe",
    unit: "sign-ups/s",
    before: "8.3 /s (`hash-wasm`)",
    peers: "Django 23.9 /s (PBKDF2, 2 workers), better-auth 5.9 /s (scrypt)",
    pick: "value",
  },
  // The issue measured before the slow-client relay existed (issue 16): its
  // figure compares with the app served as on Deno Deploy, without it.
  {
    scenario: "GET /register, no relay (as on Deno Deploy)",
    unit: "of bare `Deno.serve`",
    before: "16,778 req/s, 0.32 of bare `Deno.serve` with default logging",
    peers: "Django 890 req/s, better-auth 1,940 (`/ok`, no page)",
    pick: "ratio",
  },
  {
    scenario: "GET /register",
    unit: "of bare `Deno.serve` (self-hosted, behind the relay)",
    before: "— (no relay then)",
    peers: "—",
    pick: "ratio",
  },
  {
    scenario: "POST /activate/<token>",
    unit: "activations/s",
    before: "1,376 /s",
    peers: "Django 104.5 /s, better-auth 392 /s",
    pick: "value",
  },
  {
    scenario: "activation mails, 1000 queued",
    unit: "of pooled nodemailer",
    before: "0.30-0.42 of pooled nodemailer",
    peers: "—",
    pick: "ratio",
  },
  {
    scenario: "stdout unread 10 s, 5000 GETs",
    unit: "answered",
    before: "~280 answered, then nothing until the pipe was read",
    peers: "—",
    pick: "value",
  },
];

function renderComparison(run: Run): string {
  const head = [
    "scenario",
    "issue 14 (quiet machine)",
    "peers in issue 14",
    `latest run (load ${run.loadAverage.before} → ${run.loadAverage.after})`,
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
  ];
  for (const c of ISSUE_14) {
    const row = run.rows.find((r) => r.scenario === c.scenario);
    const figure = row?.[c.pick];
    const now = figure === undefined
      ? "not measured"
      : `${
        c.pick === "ratio"
          ? figure.toFixed(2)
          : figure.toFixed(figure < 100 ? 1 : 0)
      } ${c.unit}`;
    lines.push(`| ${[c.scenario, c.before, c.peers, now].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The README section: the latest run's table, then the one before it. */
export function renderRuns({ runs }: Results): string {
  if (!runs.length) return "No run recorded yet: `deno task bench`.";
  const parts: string[] = [
    "Against issue 14's figures, the latest run:",
    renderComparison(runs[0]),
  ];
  runs.forEach((run, i) => {
    parts.push(
      `**${i === 0 ? "Latest run" : "The run before it"}**: ${
        describeRun(run)
      }.`,
    );
    parts.push(renderTable(run.rows));
    for (const [scenario, when] of Object.entries(run.remeasured ?? {})) {
      parts.push(
        `_${scenario}: re-measured alone (\`deno task bench mail\`) at ${when.date}, load ${when.loadAverage.before} → ${when.loadAverage.after}._`,
      );
    }
  });
  return parts.join("\n\n");
}

/** Rewrites the README between the markers, then lets deno fmt align it. */
export async function writeReadme(results: Results, path = README) {
  const text = await Deno.readTextFile(path);
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${START} … ${END} section`);
  }
  await Deno.writeTextFile(
    path,
    text.slice(0, start + START.length) + "\n\n" + renderRuns(results) +
      "\n\n" + text.slice(end),
  );
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path.pathname],
  }).output();
  if (!fmt.success) throw new Error(new TextDecoder().decode(fmt.stderr));
}
