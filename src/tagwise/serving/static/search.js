/* tagwise search page: text + tag facets + dates, highlighted results, related projects.
 * Plain JavaScript, no dependencies, no build step; relative URLs only.
 *
 * API used:
 *   GET v1/search?q=&tags=&mode=&from=&to=&limit=&offset=  -> {total, hits, facets, interpreted_tags, took_ms}
 *   GET v1/projects/{id}/related?limit=5                   -> {project_id, related: [hit]}
 * Errors are application/problem+json {status, detail, errors:[{field, message}]}.
 *
 * Highlights arrive HTML-escaped with only <mark> around matches; they are still
 * rebuilt node by node here, keeping text and <mark> and nothing else, so markup
 * from the server can never become anything but text.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var PAGE = 10;
  var MAX_OFFSET = 10000;   // the API's limit
  var MAX_Q = 500;          // the field's maxlength, which a link does not obey
  var BACK_WAIT_MS = 1000;  // how long our own history.back() may take to land
  var $ = function (id) { return document.getElementById(id); };
  var el = {
    form: $("search-form"), q: $("q"), mode: $("mode"), from: $("from"), to: $("to"),
    error: $("search-error"), facets: $("facets"), hits: $("hits"), summary: $("summary"),
    selected: $("selected"), selectedWrap: $("selected-wrap"), clear: $("clear-tags"),
    interpreted: $("interpreted"), prev: $("prev"), next: $("next"), pageInfo: $("page-info"),
  };
  // typing: the current history entry was made by search-as-you-type since the last
  // deliberate step, so more typing may overwrite it and Enter adopts it; base: the URL
  // of the entry under it; backTo: the URL our own history.back() is heading for (URL
  // changes wait for it, in deferred); shownOffset: the offset of the results on screen;
  // refocus: the filter button a keyboard user pressed, focused again after the render
  var state = { tags: [], offset: 0, seq: 0, timer: null, total: 0, typing: false,
                base: null, backTo: null, backTimer: null, deferred: null, shownOffset: 0,
                refocus: null };

  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  /* Copy ``html`` into ``target`` keeping only text and <mark> elements. */
  function appendMarked(target, html) {
    var doc = new DOMParser().parseFromString("<!doctype html><body>" + html, "text/html");
    (function copy(from, to) {
      from.childNodes.forEach(function (n) {
        if (n.nodeType === Node.TEXT_NODE) {
          to.appendChild(document.createTextNode(n.textContent));
        } else if (n.nodeType === Node.ELEMENT_NODE) {
          if (n.tagName === "MARK") {
            var m = document.createElement("mark");
            copy(n, m);
            to.appendChild(m);
          } else if (n.tagName !== "SCRIPT" && n.tagName !== "STYLE") {
            copy(n, to);
          }
        }
      });
    })(doc.body, target);
    return target;
  }

  /** The search as URL parameters, always in one order: URLs of the same search are
   * the same string, which is how the history code knows it. */
  function searchParams(s) {
    var p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    s.tags.forEach(function (t) { p.append("tags", t); });
    if (s.tags.length > 1 && s.mode === "any") p.set("mode", "any");
    if (s.from) p.set("from", s.from);
    if (s.to) p.set("to", s.to);
    if (s.offset) p.set("offset", String(s.offset));
    return p;
  }

  /** The search the form holds. */
  function params() {
    return searchParams({ q: el.q.value.trim(), tags: state.tags, mode: el.mode.value,
                          from: el.from.value, to: el.to.value, offset: state.offset });
  }

  /** The URL follows the query, so Back returns to the previous deliberate search:
   * - how = "type" (the debounced search while typing): the first one after a deliberate
   *   step adds an entry, later ones replace it, and typing back to the query under it
   *   returns to that entry instead of keeping a copy;
   * - how = "enter": adopts the entry typing made (the same query, confirmed), else adds;
   * - how = "push" (a facet, a page, the any/all mode): a new step from the results on screen;
   * - anything else (a canonicalized link, a page past the end) replaces the entry. */
  function syncUrl(p, how) {
    if (state.backTo !== null) { state.deferred = { p: p, how: how }; return; }   // after it lands
    var qs = p.toString();
    var url = qs ? "?" + qs : location.pathname;
    var here = location.search || location.pathname;
    var typed = state.typing;
    if (how === "type" || how === "enter") {
      if (typed && url === state.base) {   // back where typing started: no second copy
        state.typing = false;
        state.backTo = url;
        state.backTimer = setTimeout(backLanded, BACK_WAIT_MS);   // should its popstate not come
        history.back();
        return;
      }
      if (how === "enter") state.typing = false;
      if (url === here) return;
      if (typed) { history.replaceState(null, "", url); return; }
      if (how === "type") { state.base = here; state.typing = true; }
      history.pushState(null, "", url);
      return;
    }
    if (how === "push") state.typing = false;
    if (url === here) return;
    if (how === "push") history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  /** Our own step back is done: make the URL changes that waited for it. */
  function backLanded() {
    clearTimeout(state.backTimer);
    state.backTo = null;
    var waiting = state.deferred;
    state.deferred = null;
    if (waiting) syncUrl(waiting.p, waiting.how);
  }

  /** A deliberate step supersedes the search still waiting on the typing debounce. */
  function cancelTyping() {
    clearTimeout(state.timer);
    state.timer = null;
  }

  function fromUrl() {
    var p = new URLSearchParams(location.search);
    el.q.value = (p.get("q") || "").slice(0, MAX_Q);
    state.tags = p.getAll("tags");
    el.mode.value = p.get("mode") === "any" ? "any" : "all";
    // a date field holds a day: a link's date-time keeps its day rather than vanishing
    el.from.value = (p.get("from") || "").slice(0, 10);
    el.to.value = (p.get("to") || "").slice(0, 10);
    var offset = Math.min(MAX_OFFSET, Math.max(0, parseInt(p.get("offset") || "0", 10) || 0));
    state.offset = offset - (offset % PAGE);   // a page boundary, as the pager moves
  }

  function problemText(body, status) {
    if (body && body.errors && body.errors.length) {
      return body.errors.map(function (e) { return e.field + ": " + e.message; }).join("; ");
    }
    return (body && body.detail) || "search failed (HTTP " + status + ")";
  }

  /** Query the API. The last word counts as a prefix ("learnin" finds "learning") while
   * typing and on Enter alike, so a search never loses results when it is sent, and a
   * shared link shows what its author saw. */
  function run(how) {
    var seq = ++state.seq;
    var asked = params();   // what this request is for (the form may change meanwhile)
    var p = new URLSearchParams(asked);
    p.set("limit", String(PAGE));
    p.set("prefix", "true");
    syncUrl(asked, how);
    el.hits.setAttribute("aria-busy", "true");
    fetch("v1/search?" + p.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          return { ok: r.ok, status: r.status, body: body };
        });
      })
      .then(function (res) {
        if (seq !== state.seq) return; // an newer query is on its way: ignore this answer
        el.hits.setAttribute("aria-busy", "false");
        if (!res.ok) {
          state.refocus = null;
          // The results on screen answered another query: do not leave them beside the error.
          el.error.textContent = problemText(res.body, res.status);
          clearResults();
          return;
        }
        el.error.textContent = "";
        if (state.offset > 0 && state.offset >= res.body.total && !state.timer) {
          // a link past the last page (or results that shrank): show the last page; not
          // when newer typing waits, whose search starts on page 1 anyway
          state.offset = res.body.total ? Math.floor((res.body.total - 1) / PAGE) * PAGE : 0;
          run();
          return;
        }
        if (res.body.tags && res.body.tags.join("\n") !== state.tags.join("\n")) {
          state.tags = res.body.tags.slice();   // aliases from a link, as canonical tags
          renderSelected();
          syncUrl(searchParams({ q: asked.get("q"), tags: state.tags, mode: asked.get("mode"),
                                 from: asked.get("from"), to: asked.get("to"),
                                 offset: asked.get("offset") }));   // what was asked, tags canonical
        }
        state.shownOffset = state.offset;
        var refocus = focusToRestore();   // read before the buttons are drawn again
        render(res.body);
        if (refocus) refocus();
      })
      .catch(function () {
        if (seq !== state.seq) return;
        el.hits.setAttribute("aria-busy", "false");
        state.refocus = null;
        el.error.textContent = "the server did not answer";
        clearResults();   // the results on screen answered another query
      });
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { state.offset = 0; run("type"); }, DEBOUNCE_MS);
  }

  function toggleTag(tag) {
    rememberFocus(tag);
    var i = state.tags.indexOf(tag);
    if (i >= 0) state.tags.splice(i, 1); else state.tags.push(tag);
    cancelTyping();
    state.offset = 0;
    renderSelected();
    run("push");
  }

  /** The buttons are drawn again with the results: a keyboard user pressing a facet, a
   * tag chip or a remove button must not be sent back to the top of the page. */
  function rememberFocus(tag) {
    var a = document.activeElement;
    state.refocus = a && a.tagName === "BUTTON"
      ? { tag: tag, el: a, kind: a.classList.contains("facet") ? "facet" : "other" } : null;
  }

  /** Before a render: whether focus is still where the press left it (on the pressed
   * button, or dropped to <body> because that button went); returns how to put it back
   * after the render, or null when the visitor has moved on (focus is theirs). */
  function focusToRestore() {
    var r = state.refocus;
    state.refocus = null;
    var a = document.activeElement;
    if (!r || (a && a !== document.body && a !== r.el)) return null;
    return function () {
      var target = r.kind === "facet"
        ? el.facets.querySelector('.facet[data-tag="' + cssEscape(r.tag) + '"]') : null;
      (target || $("results-heading")).focus();
    };
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
  }

  function renderSelected() {
    el.selected.replaceChildren();
    state.tags.forEach(function (t) {
      var li = node("li", "chip");
      li.appendChild(node("span", "chip-label static", t));
      var b = node("button", "chip-remove", "×");
      b.type = "button";
      b.setAttribute("aria-label", "Remove tag filter " + t);
      b.addEventListener("click", function () { toggleTag(t); });
      li.appendChild(b);
      el.selected.appendChild(li);
    });
    el.selectedWrap.hidden = state.tags.length === 0;
    // all-of / any-of only means something with two tags or more
    document.getElementById("mode-wrap").hidden = state.tags.length < 2;
    if (state.tags.length < 2) el.mode.value = "all";   // hidden state the URL would not keep
  }

  function renderFacets(facets) {
    el.facets.replaceChildren();
    var shown = facets.map(function (f) { return f.tag; });
    var list = facets.slice();
    var pinned = state.tags.filter(function (t) { return shown.indexOf(t) < 0; })
      .map(function (t) { return { tag: t, count: null }; });
    list = pinned.concat(list);   // selected tags the facets lack, first, in their order
    list.forEach(function (f) {
      var li = node("li");
      var b = node("button", "facet");
      b.type = "button";
      b.dataset.tag = f.tag;
      b.setAttribute("aria-pressed", state.tags.indexOf(f.tag) >= 0 ? "true" : "false");
      b.appendChild(node("span", "facet-tag", f.tag));
      b.appendChild(node("span", "facet-count", f.count === null ? "" : String(f.count)));
      b.setAttribute("aria-label", f.tag + (f.count === null ? "" : ", " + f.count + " projects"));
      b.addEventListener("click", function () { toggleTag(f.tag); });
      li.appendChild(b);
      el.facets.appendChild(li);
    });
  }

  /** A chip that filters the results by its tag when clicked (toggles, like a facet). */
  function filterButton(tag, label) {
    var b = node("button", "chip-filter");
    b.type = "button";
    b.dataset.tag = tag;
    b.setAttribute("aria-label", label + " — filter by this tag");
    b.setAttribute("aria-pressed", state.tags.indexOf(tag) >= 0 ? "true" : "false");
    b.addEventListener("click", function () { toggleTag(tag); });
    return b;
  }

  function tagChips(hit) {
    var ul = node("ul", "chips");
    ul.setAttribute("aria-label", "Tags");
    hit.author_tags.forEach(function (t) {
      var li = node("li", "chip chip-author");
      li.title = "author tag — click to filter by it";
      var b = filterButton(t, t + ", author tag");
      b.textContent = t;
      li.appendChild(b);
      ul.appendChild(li);
    });
    hit.suggested_tags.forEach(function (s) {
      if (hit.author_tags.indexOf(s.tag) >= 0) return;
      var li = node("li", "chip chip-suggested");
      li.title = "suggested by the model — click to filter by it";
      var pct = Math.round(100 * s.score) + "%";
      var b = filterButton(s.tag, s.tag + ", suggested, confidence " + pct);
      b.appendChild(node("span", null, s.tag));
      b.appendChild(node("span", "chip-score", pct));
      li.appendChild(b);
      ul.appendChild(li);
    });
    return ul;
  }

  function loadRelated(hit, button, box) {
    if (!box.hidden) { box.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    box.hidden = false;
    button.setAttribute("aria-expanded", "true");
    box.replaceChildren(node("span", null, "Loading related projects…"));
    fetch("v1/projects/" + encodeURIComponent(hit.id) + "/related?limit=5")
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b, status: r.status }; }); })
      .then(function (res) {
        box.replaceChildren();
        if (!res.ok) { box.appendChild(node("span", null, problemText(res.body, res.status))); return; }
        box.appendChild(node("strong", null, "Related projects"));
        var ul = node("ul");
        res.body.related.forEach(function (r) {
          var li = node("li", "related-item", r.title);
          li.dataset.id = r.id;
          if (r.author_tags.length) li.appendChild(node("span", "hit-meta", " — " + r.author_tags.slice(0, 3).join(", ")));
          ul.appendChild(li);
        });
        if (!res.body.related.length) ul.appendChild(node("li", null, "none found"));
        box.appendChild(ul);
      })
      .catch(function () { box.replaceChildren(node("span", null, "the server did not answer")); });
  }

  function renderHit(hit) {
    var li = node("li", "hit");
    li.dataset.id = hit.id;
    var h = appendMarked(node("h3", "hit-title"), hit.highlights.title);
    li.appendChild(h);
    li.appendChild(node("p", "hit-meta", "#" + hit.id + " · " + hit.created_on.slice(0, 10)));
    li.appendChild(appendMarked(node("p", "hit-desc"), hit.highlights.description));
    li.appendChild(tagChips(hit));
    var actions = node("div", "hit-actions");
    var b = node("button", "link-button related-button", "Related projects");
    b.type = "button";
    var box = node("div", "related");
    box.id = "related-" + hit.id;
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", box.id);
    b.addEventListener("click", function () { loadRelated(hit, b, box); });
    actions.appendChild(b);
    li.appendChild(actions);
    li.appendChild(box);
    return li;
  }

  function clearResults() {
    state.total = 0;
    el.hits.replaceChildren();
    el.summary.textContent = "";
    el.facets.replaceChildren();
    el.interpreted.hidden = true;
    el.pageInfo.textContent = "";
    el.prev.disabled = true;
    el.next.disabled = true;
  }

  function render(body) {
    state.total = body.total;
    el.hits.replaceChildren();
    body.hits.forEach(function (hit) { el.hits.appendChild(renderHit(hit)); });
    if (!body.hits.length) el.hits.appendChild(node("li", "empty-results", "No project matches."));
    el.summary.textContent = body.total + (body.total === 1 ? " project" : " projects") +
      " · " + body.took_ms.toFixed(1) + " ms";
    el.interpreted.hidden = !body.interpreted_tags.length;
    el.interpreted.textContent = body.interpreted_tags.length
      ? "Also matching projects tagged: " + body.interpreted_tags.join(", ") : "";
    renderFacets(body.facets);
    var page = Math.floor(state.offset / PAGE) + 1;
    var pages = Math.max(1, Math.ceil(body.total / PAGE));
    el.pageInfo.textContent = "Page " + page + " of " + pages;
    el.prev.disabled = state.offset === 0;
    el.next.disabled = state.offset + PAGE >= body.total;
  }

  el.form.addEventListener("submit", function (e) { e.preventDefault(); cancelTyping(); state.offset = 0; run("enter"); });
  el.q.addEventListener("input", schedule);
  el.mode.addEventListener("change", function () { cancelTyping(); state.offset = 0; run("push"); });
  // a typed date changes at every complete value (0002-03-01, 0020-03-01 …): like text,
  // it is searched once it stops changing, in one history entry
  [el.from, el.to].forEach(function (x) { x.addEventListener("change", schedule); });
  el.clear.addEventListener("click", function () { rememberFocus(null); cancelTyping(); state.tags = []; renderSelected(); state.offset = 0; run("push"); });
  // a step from the page on screen: a double click does not skip a page
  el.prev.addEventListener("click", function () { cancelTyping(); state.offset = Math.max(0, state.shownOffset - PAGE); run("push"); $("results-heading").focus(); });
  el.next.addEventListener("click", function () { cancelTyping(); state.offset = state.shownOffset + PAGE; run("push"); $("results-heading").focus(); });
  window.addEventListener("popstate", function () {   // Back / Forward
    if (state.backTo !== null) {
      var ours = (location.search || location.pathname) === state.backTo;
      if (!ours) state.deferred = null;   // the visitor went elsewhere too: follow the URL
      backLanded();
      if (ours) return;   // our own step back: the form and results are already right
    }
    cancelTyping();
    state.typing = false;
    fromUrl(); renderSelected(); run();
  });

  fromUrl();
  renderSelected();
  run();
})();
