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
  // Reader profiles: 👍/👎 buttons (rendered only by a server with a write token, web/feedback.py) post to
  // /api/profiles/NAME/feedback with the token the reader entered once, kept in this browser.
  var bar = document.querySelector("[data-fb-bar]");
  if (bar && window.fetch) {
    var KEY = "pl-write-token";
    var memory = null;
    var msg = {};
    try { msg = JSON.parse(bar.getAttribute("data-fb-messages") || "{}"); } catch (e) { msg = {}; }
    var form = bar.querySelector("[data-fb-token-form]");
    var field = form.querySelector("input[name=token]");
    var status = bar.querySelector("[data-fb-status]");
    var pending = null;
    var getToken = function () {
      try { return window.localStorage.getItem(KEY) || memory; } catch (e) { return memory; }
    };
    var setToken = function (value) {
      memory = value || null;
      try {
        if (value) { window.localStorage.setItem(KEY, value); } else { window.localStorage.removeItem(KEY); }
      } catch (e) { /* private mode: kept in memory for this page */ }
    };
    var say = function (text, kind) {
      status.textContent = text;
      status.setAttribute("data-kind", kind || "");
    };
    var askToken = function (text) {
      say(text, "error");
      field.focus();
    };
    var press = function (group, label) {
      group.querySelectorAll("button[data-label]").forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-label") === label ? "true" : "false");
      });
    };
    var send = function (group, label) {
      var token = getToken();
      if (!token) { pending = [group, label]; askToken(msg.need_token); return; }
      var buttons = group.querySelectorAll("button[data-label]");
      buttons.forEach(function (b) { b.disabled = true; });
      fetch(group.getAttribute("data-fb-url"), {
        method: "POST", credentials: "omit", cache: "no-store",
        headers: {"content-type": "application/json", "authorization": "Bearer " + token},
        body: JSON.stringify({paper: group.getAttribute("data-fb-paper"), label: label})
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 200) {
            press(group, label);
            say(label === "clear" ? msg.cleared : msg.saved, "ok");
          } else if (response.status === 401) {
            setToken(null);
            pending = [group, label];
            askToken(msg.denied);
          } else if (response.status === 403) {
            say(msg.off, "error");
          } else {
            say(msg.failed + " (" + response.status + (body && body.error ? ": " + body.error : "") + ")", "error");
          }
        });
      }, function () {
        say(msg.offline, "error");
      }).then(function () {
        buttons.forEach(function (b) { b.disabled = false; });
      });
    };
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = field.value.trim();
      if (!value) { askToken(msg.need_token); return; }
      setToken(value);
      field.value = "";
      say(msg.token_saved, "ok");
      if (pending) { var again = pending; pending = null; send(again[0], again[1]); }
    });
    form.querySelector("[data-fb-forget]").addEventListener("click", function () {
      setToken(null);
      say(msg.token_forgotten, "ok");
    });
    document.querySelectorAll(".pl-fb").forEach(function (group) {
      group.querySelectorAll("button[data-label]").forEach(function (b) {
        b.addEventListener("click", function () {
          send(group, b.getAttribute("aria-pressed") === "true" ? "clear" : b.getAttribute("data-label"));
        });
      });
    });
  }
})();
