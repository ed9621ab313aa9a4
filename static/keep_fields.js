// Switching language reloads the page in the other language: what was typed
// in its forms comes back (names and addresses; never a password, nothing
// hidden). Kept in sessionStorage for that one reload of that one path.
const KEY = `typed:${location.pathname}`;
const SECRET = /password|token|link/i;

function fields() {
  return [...document.querySelectorAll("main input")].filter((input) =>
    input.name && (input.type === "text" || input.type === "email") &&
    !SECRET.test(input.name) && !SECRET.test(input.autocomplete)
  );
}

function store() {
  try {
    return globalThis.sessionStorage;
  } catch {
    return null; // storage disabled: switching simply starts afresh
  }
}

document.querySelector("form.lang-switcher")?.addEventListener(
  "submit",
  () => {
    const typed = Object.fromEntries(
      fields().filter((i) => i.value).map((i) => [i.id, i.value]),
    );
    if (Object.keys(typed).length) {
      store()?.setItem(KEY, JSON.stringify(typed));
    }
  },
);

const saved = store()?.getItem(KEY);
if (saved) {
  store().removeItem(KEY);
  try {
    const typed = JSON.parse(saved);
    for (const input of fields()) {
      const value = typed[input.id];
      if (typeof value === "string" && !input.value) input.value = value;
    }
  } catch { /* not ours: ignore */ }
}
