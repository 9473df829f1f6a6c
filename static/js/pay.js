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

  // MobilePay: Stripe.js confirms the same PaymentIntent and sends the customer to the app;
  // Stripe returns them to return_url. Shown only where the account offers it.
  var mobilepay = document.getElementById("mobilepay-button");
  if (mobilepay && typeof stripe.confirmMobilepayPayment === "function") {
    var mobilepayErrors = document.getElementById("mobilepay-errors");
    mobilepay.hidden = false;
    mobilepay.addEventListener("click", function () {
      if (mobilepay.disabled) {
        return;
      }
      mobilepay.disabled = true;
      mobilepayErrors.textContent = "";
      stripe
        .confirmMobilepayPayment(form.dataset.clientSecret, {
          payment_method: { type: "mobilepay" },
          return_url: mobilepay.dataset.returnUrl,
        })
        .then(function (result) {
          if (result.error) {
            mobilepayErrors.textContent = result.error.message || form.dataset.failedText;
            mobilepay.disabled = false;
          }
        })
        .catch(function () {
          mobilepayErrors.textContent = form.dataset.failedText;
          mobilepay.disabled = false;
        });
    });
  }

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
