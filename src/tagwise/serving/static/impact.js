/* tagwise impact page: the offline discoverability report and the online feedback
 * statistics, charted by hand in inline SVG (no chart library, no CDN).
 *
 * API used:
 *   GET v1/impact             -> {summary, plot (data: URI), results, computed_at, model} | 404 problem
 *   GET v1/stats?period=day   -> {acceptance_rate, over_time, per_tag, missed_tags, avg_tags_*}
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };

  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function pct(x) { return x === null || x === undefined ? "–" : Math.round(100 * x) + "%"; }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    });
  }

  /* Horizontal bars: rows [{label, value, text}], values in [0, max]; room = the width
   * the chart may take (its box), so on a phone the bars get shorter, not the text smaller. */
  function hbars(title, rows, max, alt, room) {
    var fig = node("figure", "chart");
    fig.appendChild(node("h3", null, title));
    if (!rows.length) { fig.appendChild(node("p", "section-hint", "no data yet")); return fig; }
    // Sized to its longest label and value (11px text ≈ 6.4 units a character), drawn at
    // its natural size; bars shrink to fit the room (to 80), only then is it scaled down.
    var longest = function (key) {
      return rows.reduce(function (m, r) { return Math.max(m, String(r[key]).length); }, 0);
    };
    var rowH = 22, left = Math.ceil(10 + 6.4 * longest("label"));
    var right = Math.ceil(12 + 6.4 * longest("text"));
    var bars = Math.max(80, Math.min(220, (room || Infinity) - left - right));
    var width = left + bars + right, h = rows.length * rowH + 6;
    var s = svg("svg", { viewBox: "0 0 " + width + " " + h, width: width, height: h, role: "img",
      "aria-label": title + ": " + rows.map(function (r) { return r.label + " " + r.text; }).join(", ") });
    s.appendChild(svg("title", {}, title));
    rows.forEach(function (r, i) {
      var y = i * rowH + 3, w = max > 0 ? bars * r.value / max : 0;
      s.appendChild(svg("text", { x: left - 6, y: y + 14, "text-anchor": "end", class: "label" }, r.label));
      s.appendChild(svg("rect", { x: left, y: y + 2, width: Math.max(w, 1), height: rowH - 8, rx: 3, class: alt ? "bar alt" : "bar" }));
      s.appendChild(svg("text", { x: left + w + 6, y: y + 14 }, r.text));
    });
    fig.appendChild(s);
    return fig;
  }

  /* Acceptance rate over time: a line with dots, y in [0, 1]. */
  function timeline(title, points, room) {
    var fig = node("figure", "chart");
    fig.appendChild(node("h3", null, title));
    var pts = points.filter(function (p) { return p.rate !== null; });
    if (!pts.length) { fig.appendChild(node("p", "section-hint", "no data yet")); return fig; }
    var W = Math.max(280, Math.min(420, room || Infinity)), H = 180, L = 36, R = 10, T = 10, B = 28;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": title + ": " +
      pts.map(function (p) { return p.start + " " + pct(p.rate); }).join(", ") });
    s.appendChild(svg("title", {}, title));
    [0, 0.5, 1].forEach(function (v) {
      var y = T + (H - T - B) * (1 - v);
      s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "axis" }));
      s.appendChild(svg("text", { x: L - 4, y: y + 4, "text-anchor": "end" }, pct(v)));
    });
    var step = pts.length > 1 ? (W - L - R) / (pts.length - 1) : 0;
    var xy = pts.map(function (p, i) {
      return [L + (pts.length > 1 ? i * step : (W - L - R) / 2), T + (H - T - B) * (1 - p.rate)];
    });
    s.appendChild(svg("polyline", { points: xy.map(function (q) { return q.join(","); }).join(" "), class: "line" }));
    xy.forEach(function (q, i) {
      var c = svg("circle", { cx: q[0], cy: q[1], r: 3.5, class: "dot" });
      c.appendChild(svg("title", {}, pts[i].start + ": " + pct(pts[i].rate) + " of " + pts[i].suggested));
      s.appendChild(c);
    });
    // one point is drawn in the middle: its date goes under it
    if (pts.length === 1) s.appendChild(svg("text", { x: xy[0][0], y: H - 8, "text-anchor": "middle" }, pts[0].start));
    else s.appendChild(svg("text", { x: L, y: H - 8 }, pts[0].start));
    if (pts.length > 1) s.appendChild(svg("text", { x: W - R, y: H - 8, "text-anchor": "end" }, pts[pts.length - 1].start));
    fig.appendChild(s);
    return fig;
  }

  function kpi(value, label) {
    var li = node("li", "kpi");
    li.appendChild(node("span", "kpi-value", value));
    li.appendChild(node("span", "kpi-label", label));
    return li;
  }

  // the last answers, drawn again when the room changes (a phone turned, a window resized)
  var shown = { impact: null, stats: null, width: 0 };

  function showImpact(res) {
    shown.impact = res;
    var box = $("impact");
    box.replaceChildren();
    if (res.status === 404) {
      box.appendChild(node("p", null, "Not computed yet. Run `tagwise impact` on the server to evaluate the served model."));
      return;
    }
    if (!res.ok) { box.appendChild(node("p", "field-error", (res.body && res.body.detail) || "failed")); return; }
    var b = res.body;
    box.appendChild(node("p", "impact-summary", b.summary));
    var img = node("img", "impact-plot");
    img.src = b.plot.indexOf("data:image/png;base64,") === 0 ? b.plot : "";
    img.alt = "Bar chart of tag-search recall@10 and the share of projects findable, per way of tagging";
    box.appendChild(img);
    var rows = b.results.filter(function (r) { return r.findable !== undefined; }).map(function (r) {
      return { label: r.scenario + " (" + r.variant + ") " + r.label, value: r.findable, text: pct(r.findable) };
    });
    box.appendChild(hbars("Projects findable by one of their tags (top 10)", rows, 1, false, box.clientWidth));
    box.appendChild(node("p", "section-hint", "Computed " + b.computed_at.slice(0, 16).replace("T", " ") + " UTC" +
      " on " + b.n_projects + " projects, " + b.n_queries + " tag queries; model " +
      Object.keys(b.model).map(function (k) { return k + " " + b.model[k]; }).join(", ")));
  }

  function showStats(res) {
    shown.stats = res;
    shown.width = $("stats").clientWidth;
    var box = $("stats");
    box.replaceChildren();
    if (!res.ok) { box.appendChild(node("p", "field-error", (res.body && res.body.detail) || "failed")); return; }
    var s = res.body;
    var kpis = node("ul", "kpis");
    kpis.appendChild(kpi(pct(s.acceptance_rate), "of suggested tags kept (" + s.accepted + " / " + s.suggested + ")"));
    kpis.appendChild(kpi(String(s.records), "feedback records"));
    kpis.appendChild(kpi(s.avg_tags_suggested === null ? "–" : s.avg_tags_suggested.toFixed(2), "tags per project suggested"));
    kpis.appendChild(kpi(s.avg_tags_final === null ? "–" : s.avg_tags_final.toFixed(2), "tags per project after the author"));
    box.appendChild(kpis);
    var charts = node("div", "charts");
    var room = box.clientWidth;   // one chart per row on a phone, wider columns on a desktop
    charts.appendChild(timeline("Acceptance rate per " + s.period, s.over_time, room));
    charts.appendChild(hbars("Acceptance by tag", s.per_tag.slice(0, 12).map(function (t) {
      return { label: t.tag, value: t.rate, text: pct(t.rate) + " of " + t.suggested };
    }), 1, false, room));
    var maxMissed = Math.max.apply(null, [1].concat(s.missed_tags.map(function (m) { return m.count; })));
    charts.appendChild(hbars("Tags authors added that were not suggested", s.missed_tags.slice(0, 12).map(function (m) {
      return { label: m.tag, value: m.count, text: String(m.count) };
    }), maxMissed, true, room));
    var before = s.avg_tags_suggested || 0, after = s.avg_tags_final || 0;
    charts.appendChild(hbars("Average tags per project", [
      { label: "suggested (before)", value: before, text: before.toFixed(2) },
      { label: "final (after)", value: after, text: after.toFixed(2) },
    ], Math.max(before, after, 1), false, room));
    box.appendChild(charts);
  }

  function loadStats() {
    var box = $("stats");
    box.setAttribute("aria-busy", "true");
    getJson("v1/stats?period=" + $("period").value)
      .then(showStats)
      .catch(function () {
        // the numbers on screen belong to the previous period: do not leave them up
        box.replaceChildren(node("p", "field-error", "the server did not answer"));
      })
      .finally(function () { box.removeAttribute("aria-busy"); });
  }

  $("period").addEventListener("change", loadStats);
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if ($("stats").clientWidth === shown.width) return;
      if (shown.impact) showImpact(shown.impact);
      if (shown.stats) showStats(shown.stats);
    }, 150);
  });
  getJson("v1/impact").then(showImpact).catch(function () { $("impact").textContent = "the server did not answer"; });
  loadStats();
})();
