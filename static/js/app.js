// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const confirmText = form.dataset.confirm;
  if (confirmText && !window.confirm(confirmText)) {
    event.preventDefault();
    return;
  }
  // Show progress and prevent double submits on slow actions.
  const button = event.submitter || form.querySelector("button[type=submit]");
  if (button && !form.hasAttribute("data-no-busy")) {
    button.setAttribute("aria-busy", "true");
    window.setTimeout(() => button.setAttribute("disabled", "disabled"), 0);
  }
});
