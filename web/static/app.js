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
// A table wider than its window scrolls in its container; keyboard users reach it with Tab.
function qqScrollables(root) {
  (root || document).querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) { box.setAttribute("tabindex", "0"); } else { box.removeAttribute("tabindex"); }
  });
}
document.addEventListener("DOMContentLoaded", function () { qqScrollables(document); });
document.addEventListener("htmx:afterSettle", function () { qqScrollables(document); });
window.addEventListener("resize", function () { qqScrollables(document); });
