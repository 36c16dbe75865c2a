// qinqing: add the CSRF token to every htmx request, and show server messages on errors.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) { event.detail.headers["X-CSRFToken"] = meta.content; }
});
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("flash");
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
});
