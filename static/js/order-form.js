/* Order forms: the price as the reseller types. Posts the form (with its CSRF token) to the price
   endpoint, debounced, and shows the charge, the product line, the SMS meter and the errors of the
   fields already touched. The form works without this file (the server checks everything again). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-order-form]");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-price-url");
  var kind = form.getAttribute("data-kind");
  var charge = form.querySelector("[data-charge]");
  var info = form.querySelector("[data-service-info]");
  var meter = form.querySelector("[data-sms-meter]");
  var touched = {};
  var timer = null;
  var sequence = 0;

  function body() {
    var data = new FormData(form);
    data.set("kind", kind);
    return data;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function showErrors(errors) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (node) {
      var name = node.getAttribute("data-error-for");
      if (!touched[name]) return;  // keep what the server said about untouched fields
      var message = errors[name] || "";
      node.textContent = message;
      var field = node.closest(".field");
      if (field) field.classList.toggle("has-error", message !== "");
    });
  }

  function update() {
    var mine = ++sequence;
    form.setAttribute("aria-busy", "true");
    fetch(url, { method: "POST", body: body(), credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (mine !== sequence) return;  // an older answer arriving late
        charge.textContent = data.charge || charge.getAttribute("data-empty") || "-";
        if (info) info.textContent = data.info || "";
        if (meter && data.segments !== undefined) meter.textContent = fill(meter.getAttribute("data-template"), data);
        showErrors(data.errors || {});
      })
      .catch(function () { /* the server checks again on submit */ })
      .then(function () { form.removeAttribute("aria-busy"); });
  }

  function later(event) {
    if (event.target && event.target.name) touched[event.target.name] = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 350);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  update();
})();
