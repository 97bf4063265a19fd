(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("td-data").textContent);
  var rows = Array.prototype.slice.call(document.querySelectorAll("#tree .row:not(.head)"));
  var pos = {};
  rows.forEach(function (r, i) { pos[r.id] = i; });
  function parentOf(i) { return parseInt(rows[i].getAttribute("data-p"), 10); }
  function sizeOf(i) { return parseInt(rows[i].getAttribute("data-size"), 10); }
  // Show or hide the rows below i according to the collapsed state of i
  // and of each row below it.
  function refresh(i) {
    var end = Math.min(rows.length, i + sizeOf(i));
    var j = i + 1;
    var hidden = rows[i].hidden || rows[i].classList.contains("collapsed");
    if (hidden) {
      for (; j < end; j++) { rows[j].hidden = true; }
      return;
    }
    while (j < end) {
      rows[j].hidden = false;
      if (rows[j].classList.contains("collapsed")) {
        var e = Math.min(end, j + sizeOf(j));
        for (var k = j + 1; k < e; k++) { rows[k].hidden = true; }
        j = e;
      } else {
        j++;
      }
    }
  }
  function toggle(i) {
    rows[i].classList.toggle("collapsed");
    refresh(i);
  }
  // Expand the ancestors of row i so that it is visible.
  function reveal(i) {
    var chain = [];
    for (var p = parentOf(i); p >= 0; p = parentOf(p)) { chain.push(p); }
    for (var c = chain.length - 1; c >= 0; c--) {
      if (rows[chain[c]].classList.contains("collapsed") || rows[chain[c]].hidden) {
        rows[chain[c]].classList.remove("collapsed");
        rows[chain[c]].hidden = false;
      }
    }
    if (chain.length > 0) { refresh(chain[chain.length - 1]); }
  }
  function focusRow(i) {
    rows.forEach(function (r) { r.classList.remove("focus"); });
    reveal(i);
    rows[i].classList.add("focus");
    rows[i].scrollIntoView({ block: "center" });
  }
  document.getElementById("tree").addEventListener("click", function (ev) {
    var t = ev.target;
    if (!t.classList || !t.classList.contains("tog")) { return; }
    var row = t.closest(".row");
    if (row && pos[row.id] !== undefined) { toggle(pos[row.id]); }
  });
  document.querySelectorAll("a.divlink").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      var id = "row-" + a.getAttribute("data-row");
      if (pos[id] === undefined) { return; }
      ev.preventDefault();
      focusRow(pos[id]);
    });
  });
  document.getElementById("expand-all").addEventListener("click", function () {
    rows.forEach(function (r) { r.classList.remove("collapsed"); r.hidden = false; });
  });
  document.getElementById("collapse-same").addEventListener("click", function () {
    rows.forEach(function (r) {
      if (r.classList.contains("same") && r.querySelector(".tog")) { r.classList.add("collapsed"); }
    });
    rows.forEach(function (r, i) { if (parentOf(i) < 0) { r.hidden = false; refresh(i); } });
  });
  var frames = Array.prototype.slice.call(document.querySelectorAll("svg.fr"));
  var hits = [];
  var hitAt = -1;
  var search = document.getElementById("search");
  var count = document.getElementById("search-count");
  function runSearch() {
    var q = search.value.toLowerCase();
    hits = [];
    hitAt = -1;
    rows.forEach(function (r, i) {
      var g = r.querySelector(".g").textContent.toLowerCase();
      var b = r.querySelector(".b").textContent.toLowerCase();
      var hit = q !== "" && (g.indexOf(q) >= 0 || b.indexOf(q) >= 0);
      r.classList.toggle("hit", hit);
      if (hit) { hits.push(i); }
    });
    frames.forEach(function (f) {
      f.classList.toggle("hit", q !== "" && f.getAttribute("data-name").toLowerCase().indexOf(q) >= 0);
    });
    hits.forEach(reveal);
    count.textContent = q === "" ? "" : hits.length + " rows";
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || hits.length === 0) { return; }
    hitAt = (hitAt + 1) % hits.length;
    focusRow(hits[hitAt]);
  });
  // n / p move between divergences.
  var divAt = -1;
  document.addEventListener("keydown", function (ev) {
    if (ev.target === search || data.divRows.length === 0) { return; }
    if (ev.key !== "n" && ev.key !== "p") { return; }
    divAt = ev.key === "n" ? (divAt + 1) % data.divRows.length : (divAt + data.divRows.length - 1) % data.divRows.length;
    var id = "row-" + data.divRows[divAt];
    if (pos[id] !== undefined) { focusRow(pos[id]); }
  });
  document.body.setAttribute("data-ready", String(data.rows));
})();
