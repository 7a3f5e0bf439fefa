// Ticks the server-rendered countdowns (<p class="countdown" data-left="SECONDS">)
// and reloads the page into its next state at zero. Without JavaScript the
// server's figure (to the minute) stays, which is still right on load.
(function () {
  "use strict";
  var nodes = document.querySelectorAll(".countdown[data-left]");
  if (!nodes.length) { return; }
  function two(n) { return n < 10 ? "0" + n : String(n); }
  function label(seconds, lang) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (lang === "en") { return (d ? d + " d " : "") + h + " h " + two(m) + " min " + two(s) + " s"; }
    return (d ? d + "天 " : "") + h + "小时 " + two(m) + "分 " + two(s) + "秒";
  }
  // Counts down from the server's figure (data-left, seconds) rather than the
  // device clock, which may be wrong (and is, on purpose, under `make run AT=`).
  var loaded = Date.now();
  var timer;
  function tick() {
    var elapsed = Math.floor((Date.now() - loaded) / 1000);
    nodes.forEach(function (node) {
      var start = parseInt(node.dataset.left, 10);
      if (!(start > 0)) { return; } // nothing to count (and never a reload loop)
      var left = Math.max(0, start - elapsed);
      var span = node.querySelector(".left");
      if (span) { span.textContent = label(left, node.dataset.lang); }
      if (left === 0 && !node.dataset.reloaded) {
        node.dataset.reloaded = "1";
        window.clearInterval(timer);
        // A second's grace, so the server is surely past the boundary.
        window.setTimeout(function () { window.location.reload(); }, 1000);
      }
    });
  }
  tick();
  timer = window.setInterval(tick, 1000);
}());
