// Case filters for the adapter-harness report. The page is complete without this script:
// it only hides cases that do not match, and mirrors the filter in the URL fragment
// (#suite=...&tag=...&status=...&q=...) so a filtered view can be linked to.
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var controls = {
    suite: document.getElementById("f-suite"),
    tag: document.getElementById("f-tag"),
    status: document.getElementById("f-status"),
    q: document.getElementById("f-q")
  };
  var cases = Array.prototype.slice.call(document.querySelectorAll("article.case"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  var counter = document.getElementById("f-count");
  var texts = cases.map(function (el) { return el.textContent.toLowerCase(); });
  var tagsOf = cases.map(function (el) { return JSON.parse(el.getAttribute("data-tags") || "[]"); });

  function matches(i, f) {
    var el = cases[i];
    if (f.suite && el.getAttribute("data-suite") !== f.suite) { return false; }
    if (f.tag && tagsOf[i].indexOf(f.tag) < 0) { return false; }
    if (f.status && el.getAttribute("data-status") !== f.status && el.getAttribute("data-outcome") !== f.status) {
      return false;
    }
    return !f.q || texts[i].indexOf(f.q) >= 0;
  }

  function current() {
    return {
      suite: controls.suite.value, tag: controls.tag.value,
      status: controls.status.value, q: controls.q.value.trim().toLowerCase()
    };
  }

  function apply() {
    var f = current();
    var shown = 0;
    cases.forEach(function (el, i) {
      var ok = matches(i, f);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    var filtering = Boolean(f.suite || f.tag || f.status || f.q);
    groups.forEach(function (group) {
      var visible = group.querySelectorAll("article.case:not([hidden])").length;
      group.hidden = visible === 0;
      var count = group.querySelector(".group-count");
      if (count) { count.textContent = String(visible); }
      var details = group.querySelector("details");
      if (details && filtering && visible > 0) { details.open = true; }
    });
    counter.textContent = shown + " of " + cases.length + " cases shown";
    writeHash();
  }

  function writeHash() {
    var parts = [];
    Object.keys(controls).forEach(function (key) {
      var value = controls[key].value.trim();
      if (value) { parts.push(key + "=" + encodeURIComponent(value)); }
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash !== window.location.hash && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", hash || window.location.pathname + window.location.search);
    }
  }

  function readHash() {
    var hash = window.location.hash.replace(/^#/, "");
    if (!hash) { return; }
    hash.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq < 0) { return; }
      var key = part.slice(0, eq);
      var value;
      try { value = decodeURIComponent(part.slice(eq + 1)); } catch (e) { return; }
      var control = controls[key];
      if (!control) { return; }
      if (control.tagName === "SELECT") {
        var known = Array.prototype.some.call(control.options, function (o) { return o.value === value; });
        if (known) { control.value = value; }
      } else {
        control.value = value;
      }
    });
  }

  document.getElementById("f-clear").addEventListener("click", function () {
    controls.suite.value = controls.tag.value = controls.status.value = controls.q.value = "";
    apply();
  });
  ["suite", "tag", "status"].forEach(function (key) { controls[key].addEventListener("change", apply); });
  controls.q.addEventListener("input", apply);
  window.addEventListener("hashchange", function () { readHash(); apply(); });

  bar.hidden = false;
  readHash();
  apply();
  document.documentElement.setAttribute("data-filters", "ready");
}());
