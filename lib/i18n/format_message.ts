// Fills "{name}" placeholders in a message. Shared by the server's translator
// and the islands, which get their messages as props; no imports, browser-safe.

export function formatMessage(
  text: string,
  vars?: Record<string, string | number>,
): string {
  return vars
    ? text.replace(
      /\{(\w+)\}/g,
      (m, name) => name in vars ? String(vars[name]) : m,
    )
    : text;
}
