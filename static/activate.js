// The browser that registered submits its activation form by itself; anyone
// else (a mail scanner, another device) sees the button and must press it.
const form = document.querySelector("form[data-auto-submit]");
if (form) {
  // Said only here: without JavaScript the page waits for the button.
  const status = document.querySelector("[data-auto-status]");
  if (status) status.textContent = status.dataset.autoStatus;
  form.requestSubmit();
}
