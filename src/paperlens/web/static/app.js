// paperlens: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Filters apply as soon as a choice changes.
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Static site: the language switch toggles which summary language shows, remembered locally.
  var button = document.querySelector("[data-static-lang]");
  if (button) {
    var stored = null;
    try { stored = window.localStorage.getItem("pl-lang"); } catch (e) { stored = null; }
    if (stored === "en" || stored === "zh") { document.documentElement.setAttribute("data-lang", stored); }
    var show = function () {
      button.textContent = document.documentElement.getAttribute("data-lang") === "zh" ? "English" : "中文";
    };
    show();
    button.addEventListener("click", function () {
      var next = document.documentElement.getAttribute("data-lang") === "zh" ? "en" : "zh";
      document.documentElement.setAttribute("data-lang", next);
      try { window.localStorage.setItem("pl-lang", next); } catch (e) { /* private mode */ }
      show();
    });
  }
})();
