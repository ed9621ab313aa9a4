// One row per scenario, printed as a Markdown table; bench/lib/history.ts
// keeps the latest two runs in bench/results.json and writes them into the
// README.

export interface Row {
  scenario: string;
  /** The headline figure: requests/s, mails/s, ms or MiB (see `unit`). */
  value: number;
  unit: string;
  p50Ms?: number;
  p99Ms?: number;
  baseline?: { label: string; value: number };
  /** value / baseline (or the inverse, for figures where lower is better). */
  ratio?: number;
  goal: string;
  pass: boolean;
  /** A figure that explains another row: no goal of its own, not counted. */
  info?: boolean;
  note?: string;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits);

export function renderTable(rows: Row[]): string {
  const head = [
    "scenario",
    "result",
    "p50 ms",
    "p99 ms",
    "baseline (same run)",
    "ratio",
    "goal",
    "",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
  ];
  for (const r of rows) {
    const digits = r.value < 10 ? 2 : r.value < 100 ? 1 : 0;
    const baseline = r.baseline
      ? `${r.baseline.label}: ${
        fmt(r.baseline.value, r.baseline.value < 100 ? 1 : 0)
      }`
      : "—";
    lines.push(
      `| ${
        [
          r.scenario,
          `${fmt(r.value, digits)} ${r.unit}`,
          fmt(r.p50Ms, 2),
          fmt(r.p99Ms, 2),
          baseline,
          fmt(r.ratio, 2),
          r.goal,
          r.info ? "" : r.pass ? "met" : "**missed**",
        ].join(" | ")
      } |`,
    );
  }
  const notes = rows.filter((r) => r.note).map((r) =>
    `- ${r.scenario}: ${r.note}`
  );
  return [...lines, ...(notes.length ? ["", ...notes] : [])].join("\n");
}
