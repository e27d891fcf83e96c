// jobctl dashboard: live updates. The page works without this file; with
// it, each board refresh (a server-sent "update" event) fetches the page
// again and swaps in its <main>, and relative times tick every second.
"use strict";
(function () {
  var status = document.getElementById("live-status");

  function relative(t, now) {
    var d = Math.round((t - now) / 1000), ago = d < 0;
    if (ago) d = -d;
    if (d === 0) return "now";
    // The two largest units, rounded down, as the server writes them.
    var units = [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]], s = "";
    for (var i = 0; i < units.length; i++) {
      if (d < units[i][1]) continue;
      s = Math.floor(d / units[i][1]) + units[i][0];
      var next = units[i + 1];
      if (next) {
        var m = Math.floor((d % units[i][1]) / next[1]);
        if (m > 0) s += m + next[0];
      }
      break;
    }
    return ago ? s + " ago" : "in " + s;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(t)) el.textContent = relative(t, now);
    });
  }
  setInterval(tick, 1000);

  var fetching = false, again = false;
  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (resp) { return resp.ok ? resp.text() : Promise.reject(resp.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live"), main = document.getElementById("live");
        if (!fresh || !main) return;
        var open = {};
        main.querySelectorAll("details[data-keep]").forEach(function (d) { if (d.open) open[d.getAttribute("data-keep")] = true; });
        main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (n) { return document.importNode(n, true); }));
        main.querySelectorAll("details[data-keep]").forEach(function (d) { if (open[d.getAttribute("data-keep")]) d.open = true; });
        tick();
      })
      .catch(function () {})
      .then(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (!window.EventSource) return;
  var es = new EventSource("/events");
  es.addEventListener("open", function () { status.textContent = "live"; status.classList.add("on"); });
  es.addEventListener("error", function () { status.textContent = "reconnecting…"; status.classList.remove("on"); });
  es.addEventListener("update", refresh);
})();
