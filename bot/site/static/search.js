// The board's only script: filter models by name, alias or lab as you type. Works from a static host or file://.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  if (!input || !list) return;
  var root = input.getAttribute("data-root") || "";
  var loading = false;
  var pending = function () {};

  function norm(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "");
  }

  function load(then) {
    if (window.SUNSET_INDEX && !loading) return then();
    pending = then; // typing while the index loads: show the latest query once it has arrived
    if (loading) return;
    loading = true;
    var script = document.createElement("script");
    script.src = root + "assets/search-index.js";
    script.onload = function () {
      window.SUNSET_INDEX.forEach(function (row) { row.push(norm(row[0] + " " + row[3]), norm(row[2])); });
      loading = false;
      pending();
    };
    document.head.appendChild(script);
  }

  function show() {
    var query = norm(input.value);
    list.textContent = "";
    if (!query) return;
    var hits = [];
    window.SUNSET_INDEX.forEach(function (row) {
      var at = row[6].indexOf(query);
      if (at >= 0) hits.push([at === 0 ? 0 : 1, row]);
      else if (row[7].indexOf(query) >= 0) hits.push([2, row]);
    });
    hits.sort(function (a, b) { return a[0] - b[0] || a[1][0].localeCompare(b[1][0]); });
    hits.slice(0, 25).forEach(function (hit) {
      var row = hit[1], item = document.createElement("li"), link = document.createElement("a");
      link.href = root + "models/" + encodeURIComponent(row[1]) + "/index.html";
      link.textContent = row[0];
      item.appendChild(link);
      item.appendChild(document.createTextNode(" — " + row[2] + " · " + row[5] + " · " + row[4]));
      list.appendChild(item);
    });
    if (!hits.length) {
      var none = document.createElement("li");
      none.textContent = "No model matches “" + input.value + "”.";
      list.appendChild(none);
    }
  }

  input.addEventListener("focus", function () { load(function () {}); });
  input.addEventListener("input", function () { load(show); });
})();
