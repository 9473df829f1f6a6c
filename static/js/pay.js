// Card payment: mount Stripe's Card Element and confirm the invoice's PaymentIntent.
// The page works without this script for everything but the card form (which stays hidden).
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  var errors = document.getElementById("card-errors");
  var button = form.querySelector("button[type=submit]");
  form.hidden = false;
  card.mount("#card-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) {
      return; // a second click while the first is on its way
    }
    button.disabled = true;
    errors.textContent = "";
    stripe
      .confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message || form.dataset.failedText;
          button.disabled = false;
        } else {
          window.location.assign(form.dataset.returnUrl);
        }
      })
      .catch(function () {
        errors.textContent = form.dataset.failedText;
        button.disabled = false;
      });
  });
})();
