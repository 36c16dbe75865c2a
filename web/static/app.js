// qinqing: add the CSRF token to every htmx request, and show server messages on errors.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) { event.detail.headers["X-CSRFToken"] = meta.content; }
});
document.addEventListener("htmx:responseError", function (event) {
  // Beside the form that was sent when its part of the page has a place for it (a case's action panel).
  var scope = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("[data-flash-scope]") : null;
  var box = (scope && scope.querySelector("[data-flash-here]")) || document.getElementById("flash");
  if (!box) { return; }
  var xhr = event.detail.xhr;
  var text = xhr.statusText;
  try { text = JSON.parse(xhr.responseText).message || text; } catch (e) {
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var msg = doc.querySelector("[data-error-message]");
    if (msg) { text = msg.textContent; }
  }
  box.textContent = text;
  box.hidden = false;
  if (box.hasAttribute("data-flash-here")) { box.focus(); }
});
// The top bar's unread count: asked once the page is shown, so no page waits for it.
document.addEventListener("DOMContentLoaded", function () {
  var link = document.querySelector("[data-unread-url]");
  if (!link || !window.fetch) { return; }
  fetch(link.getAttribute("data-unread-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.unread) { return; }
      var badge = link.querySelector("[data-unread]");
      badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
      badge.hidden = false;
      var label = link.querySelector("[data-unread-label]");
      if (label) { label.hidden = false; }
    })
    .catch(function () {});
});
// The side navigation's counts: what waits behind each item, the work queue's own count (as on
// the home page), asked once the page is shown and again after each step sent through htmx.
// The number is for the eye; the words, for screen readers.
function qqNavCounts() {
  var nav = document.querySelector("[data-nav-counts-url]");
  if (!nav || !window.fetch) { return; }
  fetch(nav.getAttribute("data-nav-counts-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.items) { return; }
      nav.querySelectorAll("[data-nav-count], [data-nav-count-words]").forEach(function (el) { el.remove(); });
      data.items.forEach(function (item) {
        nav.querySelectorAll("a[data-nav]").forEach(function (link) {
          if (link.getAttribute("data-nav") !== item.href) { return; }
          var badge = document.createElement("span");
          badge.className = "badge rounded-pill nav-count";
          badge.setAttribute("aria-hidden", "true");
          badge.setAttribute("data-nav-count", String(item.count));
          badge.setAttribute("data-nav-queue", item.queue);
          badge.title = item.label;
          badge.textContent = item.shown;
          var words = document.createElement("span");
          words.className = "visually-hidden";
          words.setAttribute("data-nav-count-words", "");
          words.textContent = item.text;
          link.appendChild(badge);
          link.appendChild(words);
        });
      });
    })
    .catch(function () {});
}
document.addEventListener("DOMContentLoaded", qqNavCounts);
document.addEventListener("htmx:afterRequest", function (event) {
  var verb = event.detail.requestConfig ? event.detail.requestConfig.verb : "";
  if (event.detail.successful && verb && verb.toLowerCase() !== "get") { qqNavCounts(); }
});
// On a phone a list's table shows each row as a card (app.css, .table-cards): every cell is
// labelled with its column's header. Tables with one header row only; data-cards="off" opts out.
function qqCards(root) {
  (root || document).querySelectorAll(".table-responsive > table").forEach(function (table) {
    if (table.getAttribute("data-cards") === "off" || !table.tHead || table.tHead.rows.length !== 1) { return; }
    var labels = [];
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var text = th.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i++) { labels.push(i ? "" : text); }
    });
    var rows = [];
    Array.prototype.forEach.call(table.tBodies, function (body) { rows.push.apply(rows, body.rows); });
    if (table.tFoot) { rows.push.apply(rows, table.tFoot.rows); }
    rows.forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var span = cell.colSpan || 1;
        if (!cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", span > 1 && span >= labels.length ? "" : (labels[column] || ""));
        }
        column += span;
        var blank = !cell.textContent.trim() && !cell.querySelector("img, svg, input, select, textarea, button");
        cell.classList.toggle("cell-empty", blank);
      });
    });
    table.classList.add("table-cards");
  });
}
document.addEventListener("DOMContentLoaded", function () { qqCards(document); });
document.addEventListener("htmx:afterSettle", function () { qqCards(document); });
// A table wider than its window scrolls in its container; keyboard users reach it with Tab.
function qqScrollables(root) {
  (root || document).querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) { box.setAttribute("tabindex", "0"); } else { box.removeAttribute("tabindex"); }
  });
}
document.addEventListener("DOMContentLoaded", function () { qqScrollables(document); });
document.addEventListener("htmx:afterSettle", function () { qqScrollables(document); });
window.addEventListener("resize", function () { qqScrollables(document); });
