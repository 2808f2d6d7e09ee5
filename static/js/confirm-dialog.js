// Actions that cannot be undone (ending, cancelling a campaign) ask first. Without JavaScript their
// link opens the question on its own page; with it, the same question opens here in a <dialog>.
// Loaded as a module: deferred, and the page's CSP allows scripts from this site only.
for (const opener of document.querySelectorAll("a[data-dialog]")) {
  const dialog = document.getElementById(opener.dataset.dialog);
  if (!(dialog instanceof HTMLDialogElement) || typeof dialog.showModal !== "function") continue;
  opener.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    dialog.showModal();
  });
  // "Keep it" submits a method="dialog" form: back to the button that opened the question.
  dialog.addEventListener("close", () => opener.focus());
}
