// A sortable, filterable table that draws only the rows in view (presetctl/report/html.py).
// Data: the JSON data block (HtmlPage.json_data) named by the section's data-source:
//   {"columns": [{"key", "label", "table"?, "match": "rank"|"prefix"|"glob"|"text", "aliases"?,
//                 "width"?, "hidden"?, "classes"?}],
//    "tables": {name: [strings]}, "rows": [[cell, ...]], "facets": [{"column", "label", "options": [[query, label]]}],
//    "link": {"column", "prefix", "label"}?}
// A cell of a column with "table" is an index into that table. Text reaches the page only through
// textContent: nothing from the data is ever parsed as HTML.
(function () {
  "use strict";
  var ROW = 24, OVERSCAN = 12;

  function setup(section) {
    var source = document.getElementById(section.getAttribute("data-source"));
    var data = JSON.parse(source.textContent);
    var cols = data.columns, rows = data.rows, tables = data.tables || {};
    var visibleCols = [], aliases = {}, c, i;
    for (c = 0; c < cols.length; c++) {
      if (!cols[c].hidden) visibleCols.push(c);
      (cols[c].aliases || [cols[c].key]).forEach(function (a) { aliases[a] = c; });
    }
    var head = section.querySelector(".vt-head"), body = section.querySelector(".vt-body");
    var spacer = section.querySelector(".vt-spacer"), holder = section.querySelector(".vt-rows");
    var search = section.querySelector(".vt-search"), count = section.querySelector(".vt-count");
    var facetsBox = section.querySelector(".vt-facets"), detail = section.querySelector(".vt-detail");
    section.style.setProperty("--vt-cols", visibleCols.map(function (k) { return cols[k].width || "1fr"; }).join(" "));

    function cell(r, k) {
      var v = rows[r][k], col = cols[k];
      if (v === null || v === undefined) return "";
      return col.table ? tables[col.table][v] : String(v);
    }

    // Sort keys: table columns compare by the rank of their string (computed once per table).
    var ranks = {};
    function rankOf(k) {
      var col = cols[k];
      if (col.match === "rank" || !col.table) return null;
      if (!ranks[col.table]) {
        var t = tables[col.table], order = t.map(function (_, j) { return j; });
        order.sort(function (a, b) { return t[a] < t[b] ? -1 : t[a] > t[b] ? 1 : 0; });
        var rank = new Int32Array(t.length);
        order.forEach(function (j, n) { rank[j] = n; });
        ranks[col.table] = rank;
      }
      return ranks[col.table];
    }

    var sortCol = -1, sortDir = 1, order = null, shown = null, selected = -1, lower = null;

    function globRe(glob) {
      var re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
      return new RegExp("^" + re + "$");
    }

    function parse(query) {
      var words = query.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) || [];
      var tests = [], terms = [];
      words.forEach(function (w) {
        w = w.replace(/["']/g, "");
        var m = /^([a-z]+):(.*)$/.exec(w);
        var k = m ? aliases[m[1]] : undefined;
        if (k === undefined) { if (w) terms.push(w.toLowerCase()); return; }
        var col = cols[k], values = m[2].split(",").filter(Boolean);
        if (!values.length) return;
        if (col.match === "rank") {
          var t = tables[col.table], allowed = new Uint8Array(t.length);
          values.forEach(function (v) {
            var plus = v.slice(-1) === "+", at = t.indexOf(plus ? v.slice(0, -1) : v);
            for (var j = 0; j < t.length; j++) if (j === at || (plus && at >= 0 && j <= at)) allowed[j] = 1;
          });
          tests.push(function (r) { return allowed[rows[r][k]] === 1; });
        } else if (col.match === "prefix") {
          var ups = values.map(function (v) { return v.toUpperCase(); });
          tests.push(function (r) { var s = cell(r, k).toUpperCase(); return ups.some(function (u) { return s.indexOf(u) === 0; }); });
        } else if (col.match === "glob") {
          var res = values.map(function (v) { return { re: globRe(v), name: v.indexOf("/") < 0 }; });
          tests.push(function (r) {
            var s = cell(r, k), base = s.slice(s.lastIndexOf("/") + 1);
            return res.some(function (g) { return g.re.test(s) || (g.name && g.re.test(base)); });
          });
        } else {
          var subs = values.map(function (v) { return v.toLowerCase(); });
          tests.push(function (r) { var s = cell(r, k).toLowerCase(); return subs.some(function (v) { return s.indexOf(v) >= 0; }); });
        }
      });
      if (terms.length) {
        if (!lower) {
          lower = new Array(rows.length);
          for (var r = 0; r < rows.length; r++) {
            var parts = [];
            for (var k = 0; k < cols.length; k++) parts.push(cell(r, k));
            lower[r] = parts.join("\n").toLowerCase();
          }
        }
        tests.push(function (r) { return terms.every(function (t) { return lower[r].indexOf(t) >= 0; }); });
      }
      return tests;
    }

    function sortOrder() {
      var idx = new Int32Array(rows.length);
      for (i = 0; i < rows.length; i++) idx[i] = i;
      if (sortCol < 0) return idx;
      var k = sortCol, rank = rankOf(k), dir = sortDir, arr = Array.prototype.slice.call(idx);
      var key = rank ? function (r) { return rank[rows[r][k]]; }
        : cols[k].table ? function (r) { return rows[r][k]; } : function (r) { return cell(r, k); };
      var keys = arr.map(key);
      arr.sort(function (a, b) { var x = keys[a], y = keys[b]; return x < y ? -dir : x > y ? dir : a - b; });
      return Int32Array.from(arr);
    }

    function query() {
      var parts = [search.value];
      facetsBox.querySelectorAll("select").forEach(function (s) { if (s.value) parts.push(s.value); });
      return parts.join(" ");
    }

    function refilter() {
      if (!order) order = sortOrder();
      var tests = parse(query()), out = new Int32Array(rows.length), n = 0;
      for (var j = 0; j < order.length; j++) {
        var r = order[j], ok = true;
        for (var t = 0; t < tests.length && ok; t++) ok = tests[t](r);
        if (ok) out[n++] = r;
      }
      shown = out.subarray(0, n);
      count.textContent = "showing " + n.toLocaleString("en") + " of " + rows.length.toLocaleString("en");
      spacer.style.height = n * ROW + "px";
      draw(true);
    }

    var drawn = "";
    function draw(force) {
      var first = Math.max(0, Math.floor(body.scrollTop / ROW) - OVERSCAN);
      var last = Math.min(shown.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW) + OVERSCAN);
      var stamp = first + ":" + last;
      if (!force && stamp === drawn) return;
      drawn = stamp;
      var frag = document.createDocumentFragment();
      for (var j = first; j < last; j++) {
        var r = shown[j], line = document.createElement("div");
        line.className = "vt-row" + (r === selected ? " selected" : "");
        line.setAttribute("role", "row");
        line.dataset.row = String(r);
        visibleCols.forEach(function (k) {
          var span = document.createElement("span"), text = cell(r, k);
          span.setAttribute("role", "cell");
          span.textContent = text;
          span.title = text;
          if (cols[k].classes) span.className = cols[k].classes + text;
          line.appendChild(span);
        });
        frag.appendChild(line);
      }
      holder.style.transform = "translateY(" + first * ROW + "px)";
      holder.replaceChildren(frag);
    }

    function showDetail(r) {
      selected = r;
      var dl = document.createElement("dl");
      cols.forEach(function (col, k) {
        var text = cell(r, k);
        if (!text) return;
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = col.label;
        dd.textContent = text;
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
      detail.replaceChildren(dl);
      if (data.link) {
        var target = data.link.prefix + cell(r, aliases[data.link.column]);
        if (document.getElementById(target)) {
          var a = document.createElement("a");
          a.href = "#" + target;
          a.textContent = data.link.label;
          a.addEventListener("click", function () { document.getElementById(target).open = true; });
          detail.appendChild(a);
        }
      }
      draw(true);
    }

    visibleCols.forEach(function (k) {
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "columnheader");
      b.textContent = cols[k].label;
      b.addEventListener("click", function () {
        sortDir = sortCol === k ? -sortDir : 1;
        sortCol = k;
        head.querySelectorAll("button").forEach(function (x) { x.removeAttribute("aria-sort"); });
        b.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        order = null;
        refilter();
      });
      head.appendChild(b);
    });
    (data.facets || []).forEach(function (f) {
      var s = document.createElement("select");
      s.setAttribute("aria-label", f.label);
      s.dataset.column = f.column;
      f.options.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o[0];
        opt.textContent = o[1];
        s.appendChild(opt);
      });
      s.addEventListener("change", refilter);
      facetsBox.appendChild(s);
    });
    var pending = 0;
    search.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(refilter, 60);  // a keystroke burst filters once
    });
    body.addEventListener("scroll", function () { requestAnimationFrame(function () { draw(false); }); });
    holder.addEventListener("click", function (e) {
      var line = e.target.closest(".vt-row");
      if (line) showDetail(Number(line.dataset.row));
    });
    refilter();
    section.setAttribute("data-state", "ready");
    performance.mark("vt-ready:" + section.id);  // time to interactive, for anyone measuring the page
  }

  document.querySelectorAll("section.vt-wrap[data-source]").forEach(setup);
})();
