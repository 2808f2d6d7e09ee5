// Payout-account form on the earnings page (templates/payouts/partials/payout_account_form.html).
// Progressive enhancement only: without this module, "Continue" reloads the page with ?method=… and the
// server shows that method's fields. With it, choosing a method shows its fields at once.
const chooser = document.querySelector("form[data-payout-method]");
const account = document.querySelector("form[data-payout-account]");

if (chooser && account) {
  const kind = account.querySelector("input[name='kind']");
  const save = account.querySelector("[data-payout-account-save]");
  const fieldsets = account.querySelectorAll("fieldset[data-method]");

  const show = (method) => {
    if (kind) kind.value = method;
    fieldsets.forEach((fieldset) => {
      fieldset.hidden = fieldset.dataset.method !== method;
    });
    if (save) save.hidden = !method;
  };

  // The choice applies as it is made: the round-trip button is not needed.
  const next = chooser.querySelector("[data-payout-method-continue]");
  if (next) next.hidden = true;
  chooser.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.name === "method") show(input.value);
  });
  chooser.addEventListener("submit", (event) => event.preventDefault());
}
