// Ticks the server-rendered countdowns; reloads into the next state at zero.
(function () {
  "use strict";
  var nodes = document.querySelectorAll(".countdown[data-left]");
  if (!nodes.length) { return; }
  function label(seconds, lang) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (lang === "en") { return (d ? d + " d " : "") + h + " h " + m + " min " + s + " s"; }
    return (d ? d + "天 " : "") + h + "小时 " + m + "分 " + s + "秒";
  }
  // Counts down from the server's figure (data-left, seconds) rather than the
  // device clock, which may be wrong (and is, on purpose, under `make run AT=`).
  var loaded = Date.now();
  function tick() {
    var elapsed = Math.floor((Date.now() - loaded) / 1000);
    nodes.forEach(function (node) {
      var left = Math.max(0, parseInt(node.dataset.left, 10) - elapsed);
      var span = node.querySelector(".left");
      if (span) { span.textContent = label(left, node.dataset.lang); }
      if (left === 0 && !node.dataset.reloaded) { node.dataset.reloaded = "1"; window.setTimeout(function () { window.location.reload(); }, 1000); }
    });
  }
  tick();
  window.setInterval(tick, 1000);
}());
