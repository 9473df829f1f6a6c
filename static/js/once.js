// A form that carries a one-time key (money and hours) is sent once per click: the button
// goes quiet until the next page. The server would take a second post as the first anyway
// (portal/submissions.py); this only spares the user a second round trip and a puzzled look.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.querySelector('input[name="idempotency_key"]')) return;
  if (form.dataset.sending === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  form.querySelectorAll('button[type="submit"], button:not([type])').forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-sending");
  });
});

// Back to a page kept in the browser's cache: its forms may be used again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sending]").forEach(function (form) {
    delete form.dataset.sending;
    form.querySelectorAll(".is-sending").forEach(function (button) {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-sending");
    });
  });
});
