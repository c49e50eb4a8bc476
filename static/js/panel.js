/* Reseller panel: copy buttons, confirmations, one-click forms, the live order status and the dashboard chart's
   tooltip.
   Vanilla JS, no dependencies; every page also works without it. */
(function () {
  "use strict";

  // --- the main menu folds behind its button on a phone (CSS shows it whole without JS) ------------
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    var open = menu.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // --- copy to clipboard (navigator.clipboard, with a fallback for plain-http pages) -------------
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function copySource(button) {
    if (button.hasAttribute("data-copy")) return button.getAttribute("data-copy");
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return "";
    return (target.tagName === "INPUT" || target.tagName === "TEXTAREA") ? target.value : target.textContent;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    event.preventDefault();
    var text = (copySource(button) || "").trim();
    copyText(text).then(function () {
      var label = button.getAttribute("data-copied") || "OK";
      var note = button.parentNode.querySelector(".copy-ok");
      if (!note) {
        note = document.createElement("span");
        note.className = "copy-ok";
        note.setAttribute("role", "status");
        button.insertAdjacentElement("afterend", note);
      }
      note.textContent = label;
      setTimeout(function () { note.textContent = ""; }, 2000);
    }).catch(function () {
      window.prompt(button.getAttribute("data-copy-prompt") || "", text);
    });
  });

  // --- confirmations and forms that must be sent once ---------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-once")) {
      if (form.getAttribute("data-sent") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
      // Disable after the browser has collected the clicked button's name and value.
      setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) { b.disabled = true; });
      }, 0);
    }
  }, true);

  // Auto-submitting selects (category pickers): <select data-autosubmit>.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // --- live order status: poll while the order is not final -------------------------------------
  function startPolling(box) {
    var url = box.getAttribute("data-poll-url");
    var every = (parseInt(box.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
    var failures = 0;
    var timer = null;
    var last = "";

    function schedule(delay) { timer = window.setTimeout(tick, delay); }

    function tick() {
      if (document.hidden) { schedule(every); return; }
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          if (data.html && data.html !== last) {
            last = data.html;
            box.innerHTML = data.html;
          }
          box.setAttribute("data-status", data.status || "");
          if (data.final) {
            box.setAttribute("data-final", "1");
            return;  // final: stop polling
          }
          schedule(every);
        })
        .catch(function () {
          failures += 1;
          schedule(Math.min(every * Math.pow(2, failures), 60000));
        });
    }

    schedule(every);
    return function stop() { if (timer) window.clearTimeout(timer); };
  }

  // --- dashboard chart: a tooltip with the day and its exact amount, for a mouse (hover), a finger (tap)
  // and the keyboard (arrows). Positions are set through element.style (the CSSOM), which the
  // Content-Security-Policy allows; style="" in markup it would refuse. ---------------------------------
  function enhanceChart(chart) {
    var plot = chart.querySelector(".chart-plot");
    var days = Array.prototype.slice.call(chart.querySelectorAll("g.day"));
    if (!plot || !days.length) return;
    var tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    tip.setAttribute("role", "status");
    tip.setAttribute("data-testid", "chart-tip");
    var when = document.createElement("span");
    var amount = document.createElement("strong");
    tip.appendChild(when);
    tip.appendChild(amount);
    plot.appendChild(tip);
    // The tip replaces the browser's own tooltips (each day's <title>), which would show beside it.
    days.forEach(function (day) {
      var title = day.querySelector("title");
      if (title) day.removeChild(title);
    });
    var current = -1;

    function show(index) {
      if (current >= 0) days[current].classList.remove("active");
      current = Math.max(0, Math.min(index, days.length - 1));
      var day = days[current];
      day.classList.add("active");
      when.textContent = day.getAttribute("data-date");
      amount.textContent = day.getAttribute("data-amount");
      tip.hidden = false;
      var box = plot.getBoundingClientRect();
      var slot = day.querySelector(".slot").getBoundingClientRect();
      var bar = day.querySelector(".bar").getBoundingClientRect();
      var centre = slot.left + slot.width / 2 - box.left;
      var left = Math.max(0, Math.min(centre - tip.offsetWidth / 2, box.width - tip.offsetWidth));
      tip.style.left = left + "px";
      tip.style.top = Math.max(0, bar.top - box.top - tip.offsetHeight - 6) + "px";
    }

    function hide() {
      if (current >= 0) days[current].classList.remove("active");
      current = -1;
      tip.hidden = true;
    }

    function pick(event) {
      var day = event.target.closest && event.target.closest("g.day");
      if (day) show(days.indexOf(day));
    }

    plot.addEventListener("pointermove", function (event) { if (event.pointerType === "mouse") pick(event); });
    plot.addEventListener("pointerdown", pick);  // a tap (a finger has no hover)
    plot.addEventListener("pointerleave", function (event) { if (event.pointerType === "mouse") hide(); });
    document.addEventListener("pointerdown", function (event) { if (!plot.contains(event.target)) hide(); });
    plot.tabIndex = 0;
    plot.addEventListener("focus", function () { if (current < 0) show(days.length - 1); });
    plot.addEventListener("blur", hide);
    plot.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: days.length - 1 };
      if (event.key === "Escape") { hide(); return; }
      if (!(event.key in moves)) return;
      event.preventDefault();
      show(moves[event.key]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll-url]"), function (box) {
      if (box.getAttribute("data-final") !== "1") startPolling(box);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-spend-chart]"), enhanceChart);
  });
})();
