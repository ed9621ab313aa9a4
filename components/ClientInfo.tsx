// How a device, a network and a moment read on the account pages: shared by
// the sessions list and the security events, in the page's language.
import type { AuditEvent } from "../lib/accounts/audit.ts";
import type { ClientInfo } from "../lib/accounts/devices.ts";
import type { Translate } from "../lib/i18n/i18n.ts";

/** "Firefox 128 on Linux", "Unknown browser on Android", "Unknown device". */
export function deviceLabel(t: Translate, client: ClientInfo): string {
  const { browser, os } = client;
  if (browser && os) return t("device.browser_on_os", { browser, os });
  if (browser) return browser;
  if (os) return t("device.unknown_browser_on_os", { os });
  return t("device.unknown");
}

/** "203.0.113.x", or "unknown network". */
export function addressLabel(t: Translate, client: ClientInfo): string {
  return client.address ?? t("device.unknown_address");
}

/** A moment in the page's language, in UTC (we do not know the person's zone). */
export function formatWhen(lang: string, at: number): string {
  return new Intl.DateTimeFormat(lang, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "UTC",
  }).format(at) + " UTC";
}

/** One line per event: what happened, then when, from which device. */
export function AuditList(
  props: { t: Translate; lang: string; events: AuditEvent[] },
) {
  const { t, lang, events } = props;
  if (!events.length) return <p>{t("audit.none")}</p>;
  return (
    <ul class="audit-events">
      {events.map((event, i) => (
        <li key={i}>
          <strong>
            {t(`audit.${event.type}`, {
              device: event.ended ? deviceLabel(t, event.ended) : "",
              count: event.count ?? 0,
            })}
          </strong>
          <br />
          <span class="hint">
            <time dateTime={new Date(event.at).toISOString()}>
              {formatWhen(lang, event.at)}
            </time>
            {" · "}
            {deviceLabel(t, event.client)}
            {" · "}
            {addressLabel(t, event.client)}
          </span>
        </li>
      ))}
    </ul>
  );
}
