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

  // The status says whether the page is live: "live" while the event
  // stream is open and the last fetch of the page worked.
  var es = null, fetchFailed = false;
  function showStatus() {
    var open = es && es.readyState === EventSource.OPEN;
    status.textContent = fetchFailed ? "update failed: retrying…" : open ? "live" : "reconnecting…";
    status.classList.toggle("on", open && !fetchFailed);
    status.classList.toggle("error", fetchFailed);
  }

  // refresh fetches the page again and swaps in its <main id="live">,
  // whatever the status: the not-found page has one too (the job was
  // removed). A fetch that fails, or a response without it, is retried.
  var fetching = false, again = false, retry = null;
  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    clearTimeout(retry);
    fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (resp) {
        return resp.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("live"), main = document.getElementById("live");
          if (!fresh || !main) throw new Error("HTTP " + resp.status + ": no page");
          var open = {};
          main.querySelectorAll("details[data-keep]").forEach(function (d) { if (d.open) open[d.getAttribute("data-keep")] = true; });
          main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (n) { return document.importNode(n, true); }));
          main.querySelectorAll("details[data-keep]").forEach(function (d) { if (open[d.getAttribute("data-keep")]) d.open = true; });
          tick();
          fetchFailed = false;
        });
      })
      .catch(function () {
        fetchFailed = true;
        retry = setTimeout(refresh, 3000);
      })
      .then(function () {
        fetching = false;
        showStatus();
        if (again) { again = false; refresh(); }
      });
  }

  if (!window.EventSource) return;
  es = new EventSource("/events");
  var opened = false;
  es.addEventListener("open", function () {
    showStatus();
    // Back after a break: what happened meanwhile sent no event here.
    if (opened) refresh();
    opened = true;
  });
  es.addEventListener("error", showStatus);
  es.addEventListener("update", refresh);
})();
