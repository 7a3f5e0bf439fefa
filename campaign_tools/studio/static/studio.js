// Optional: while the time machine's slider moves, the instant field follows it (in the
// chosen zone), so the field shows what a submit will show. Without JavaScript the form
// works as it is: the server takes the slider when the field is left unchanged.
(function () {
  "use strict";
  var slider = document.getElementById("t"), field = document.getElementById("at"), zone = document.getElementById("tz");
  if (!slider || !field || !zone || !window.Intl) { return; }
  function local(seconds) {
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-CA", {
        timeZone: zone.value, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
      }).formatToParts(new Date(seconds * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    } catch (e) { return null; } // a zone the browser does not know: the server will say so
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }
  slider.addEventListener("input", function () {
    var text = local(parseInt(slider.value, 10));
    if (text) { field.value = text; }
  });
}());
