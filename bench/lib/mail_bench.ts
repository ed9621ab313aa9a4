// The mail scenario: registrations queued in a KV file before the app starts,
// delivered to the bench's loopback SMTP sink, against pooled nodemailer
// handing the same number of mails to the same sink. Both rates are timed by
// the sink, from the first mail received to the last.
import { prepareQueuedRegistrations } from "./prepare.ts";
import {
  appEnv,
  cpuSeconds,
  freePort,
  runScript,
  startProcess,
} from "./proc.ts";
import type { Row } from "./report.ts";
import type { SmtpSink } from "./smtp_sink.ts";

export async function measureMail(opts: {
  sink: SmtpSink;
  tmp: string;
  appArgs: string[];
  count: number;
}): Promise<{ row: Row; rssMib: number }> {
  const { sink, count } = opts;
  const mailKv = `${opts.tmp}/mail-${crypto.randomUUID()}.sqlite3`;
  await prepareQueuedRegistrations({ kvPath: mailKv, count });
  sink.reset();
  const mailPort = freePort();
  const mailApp = await startProcess({
    args: opts.appArgs,
    env: appEnv(mailPort, mailKv, {
      MAIL_BACKEND: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(sink.port),
    }),
    port: mailPort,
    readyPath: "/register",
  });
  let mailOk: boolean;
  let rssMib: number;
  let appCpuMs = NaN;
  try {
    // CPU from the first mail to the last: the delivery alone, not start-up.
    await sink.waitFor(1, 60_000);
    const cpuAtFirst = await cpuSeconds(mailApp.pid);
    mailOk = await sink.waitFor(count, 60_000);
    appCpuMs = (await cpuSeconds(mailApp.pid) - cpuAtFirst) * 1000;
    rssMib = await mailApp.peakRssMib();
  } finally {
    await mailApp.stop();
  }
  const appMail = mailRate(sink.arrivals, mailApp.spawnedAt);
  sink.reset();
  const base = await runScript<{ cpuMs: number }>("bench/baselines/mail.ts", [
    String(sink.port),
    String(count),
  ]);
  const baseMail = mailRate(sink.arrivals, NaN);
  const ratio = appMail.perSecond / baseMail.perSecond;
  const row: Row = {
    scenario: `activation mails, ${count} queued`,
    value: appMail.perSecond,
    unit: "mails/s",
    baseline: { label: "pooled nodemailer script", value: baseMail.perSecond },
    ratio,
    goal: "≥ 0.8",
    pass: mailOk && ratio >= 0.8,
    // CPU per mail moves less with other work on the machine than rates do.
    note:
      (mailOk
        ? `last mail ${
          appMail.sinceSpawnMs.toFixed(0)
        } ms after the process started`
        : `only ${sink.arrivals.length} of ${count} arrived in 60 s`) +
      `; CPU per mail ${(appCpuMs / count).toFixed(2)} ms (app) vs ${
        (base.cpuMs / count).toFixed(2)
      } ms (nodemailer)`,
  };
  return { row, rssMib };
}

/** Steady-state rate between the first and the last mail. */
function mailRate(arrivals: number[], spawnedAt: number) {
  const first = arrivals[0];
  const last = arrivals[arrivals.length - 1];
  return {
    perSecond: (arrivals.length - 1) / ((last - first) / 1000),
    sinceSpawnMs: last - spawnedAt,
  };
}
