/* tagwise web UI: suggestions while typing, accept/remove chips, add tags from the
 * vocabulary, submit feedback. Plain JavaScript, no dependencies, no build step.
 *
 * API used (relative URLs so the page also works behind a path prefix):
 *   POST v1/suggest   {title, description}            -> {tags:[{tag,score}], long_tail:[{tag,score,source,confidence}], model:{name,version}, took_ms}
 *   GET  v1/tags                                       -> {labels:[...], vocabulary:[{tag,aliases,parents,in_label_space}]}
 *   POST v1/feedback  {title, description, suggested, accepted, added} -> 201 {id}
 *   GET  readyz                                        -> 200 when a model is loaded
 * Errors are application/problem+json {type,title,status,detail,errors:[{field,message}]}.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;
  var MAX_OPTIONS = 8;
  var FEEDBACK_TIMEOUT_MS = 20000;   // a hung save must not keep Submit disabled for good
  var SUGGEST_TIMEOUT_MS = 15000;    // nor a hung suggestion the chips

  var $ = function (id) { return document.getElementById(id); };
  var el = {
    form: $("project-form"),
    title: $("title"),
    description: $("description"),
    titleError: $("title-error"),
    descriptionError: $("description-error"),
    suggestions: $("suggestions"),
    empty: $("suggestions-empty"),
    restoreWrap: $("restore-wrap"),
    removedCount: $("removed-count"),
    restore: $("restore"),
    added: $("added"),
    addTag: $("add-tag"),
    addTagButton: $("add-tag-button"),
    listbox: $("add-tag-listbox"),
    submit: $("submit"),
    reset: $("reset"),
    status: $("status"),
    busy: $("busy"),
    modelVersion: $("model-version"),
    tookMs: $("took-ms"),
    readyDot: $("ready-dot"),
    staleNote: $("suggestions-stale"),
    announce: $("announce"),
  };

  var state = {
    shown: [],              // [{tag, score, longTail?, source?}]: head tags, then long-tail ones
    scores: new Map(),      // tag -> last score seen (keeps accepted chips that drop out)
    tail: new Map(),        // tag -> source ("zero-shot"/"few-shot") of long-tail tags seen
    accepted: new Set(),    // suggested tags the author accepted
    removed: new Set(),     // suggested tags the author removed
    added: [],              // tags added from the vocabulary (canonical names)
    vocab: [],              // [{tag, aliases, parents, in_label_space}]
    canonical: new Map(),   // lower-cased tag or alias -> canonical tag
    seq: 0,                 // id of the newest suggest request
    applied: 0,             // id of the newest answer applied (ignore older ones)
    controller: null,       // AbortController of the request in flight
    timer: null,
    options: [],            // current autocomplete options
    active: -1,             // index of the highlighted option
    picked: false,          // the author moved the highlight (arrow keys, hover)
    dismissed: false,       // the author closed the options with Escape
    submitting: false,
    generation: 0,          // bumped by "Start over": a submit still waiting then saves nothing
    running: null,          // promise of the suggest request in flight (submit waits for it)
    predictionId: null,     // prediction_id of the suggestions on screen
    lastSaved: null,        // {key, id} of the last saved feedback (no duplicate submits)
    vocabTries: 0,          // failed loads of the tag list (retried with a growing delay)
    vocabTimer: null,       // the one scheduled retry
    vocabLoading: false,    // a load in flight (no second one)
    readyTimer: null,       // re-checks readyz while the server is unreachable
  };

  /* ---------- helpers ---------- */

  function problemFrom(response, body) {
    if (body && typeof body === "object" && (body.title || body.detail)) return body;
    return { title: response.statusText || "Request failed", status: response.status,
             detail: typeof body === "string" && body ? body.slice(0, 300) : "" };
  }

  async function api(path, options) {
    var response = await fetch(path, options);
    var type = response.headers.get("content-type") || "";
    var body = null;
    if (type.indexOf("json") !== -1) {
      try { body = await response.json(); } catch (e) { body = null; }
    } else {
      body = await response.text();
    }
    if (!response.ok) {
      var err = new Error("HTTP " + response.status);
      err.problem = problemFrom(response, body);
      err.status = response.status;
      throw err;
    }
    return body;
  }

  function postJSON(path, payload, signal) {
    return api(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(payload),
      signal: signal,
    });
  }

  function fieldName(field) {
    if (Array.isArray(field)) field = field[field.length - 1];
    field = String(field || "");
    var parts = field.split(/[.\/]/);
    return parts[parts.length - 1];
  }

  function formatScore(score) {
    return (Math.round(score * 100) / 100).toFixed(2);
  }

  /** The title as the server sees it: zero-width characters do not make a title. */
  function visibleTitle() {
    return el.title.value.replace(/[\u200B-\u200F\u2060\uFEFF]/g, "").trim() ? el.title.value.trim() : "";
  }

  function normalise(text) {
    return text.trim().toLowerCase().replace(/[\s_]+/g, "-");
  }

  /* ---------- status and field errors ---------- */

  function setStatus(kind, source, nodes) {
    el.status.textContent = "";
    delete el.status.dataset.network;
    el.status.dataset.kind = kind || "";
    el.status.dataset.source = source || "";
    if (!kind) return;
    nodes.forEach(function (n) { el.status.appendChild(n); });
  }

  function clearStatus(source) {
    if (!source || el.status.dataset.source === source) setStatus("", "", []);
  }

  function text(tag, content, cls) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (content !== undefined) n.textContent = content;
    return n;
  }

  function clearFieldErrors() {
    [[el.title, el.titleError], [el.description, el.descriptionError]].forEach(function (p) {
      p[0].removeAttribute("aria-invalid");
      p[1].textContent = "";
    });
  }

  function showProblem(problem, source) {
    clearFieldErrors();
    var rest = [];
    (problem.errors || []).forEach(function (e) {
      var name = fieldName(e.field);
      if (name === "title" || name === "description") {
        var input = name === "title" ? el.title : el.description;
        var holder = name === "title" ? el.titleError : el.descriptionError;
        input.setAttribute("aria-invalid", "true");
        holder.textContent = e.message || "Invalid value";
      } else {
        rest.push(e);
      }
    });
    var nodes = [];
    var head = text("p", "", "status-title");
    head.appendChild(text("strong", problem.title || "Request failed"));
    if (problem.status) head.appendChild(text("span", " (" + problem.status + ")", "status-code"));
    nodes.push(head);
    var inline = (problem.errors || []).length && !rest.length;
    if (inline) nodes.push(text("p", "Please correct the highlighted field.", "status-detail"));
    else if (problem.detail) nodes.push(text("p", problem.detail, "status-detail"));
    if (rest.length) {
      var ul = text("ul", undefined, "status-errors");
      rest.forEach(function (e) {
        var li = text("li");
        if (e.field) li.appendChild(text("code", fieldName(e.field) || String(e.field)));
        li.appendChild(document.createTextNode((e.field ? ": " : "") + (e.message || "")));
        ul.appendChild(li);
      });
      nodes.push(ul);
    }
    setStatus("error", source, nodes);
  }

  function showNetworkError(source, err) {
    showProblem({ title: "Cannot reach the server", detail: String(err && err.message || err) }, source);
    el.status.dataset.network = "true";   // cleared once the server answers again
    serverDown("server unreachable");
  }

  /** The header says the server is down, and readyz is polled until it is back. */
  function serverDown(label) {
    el.readyDot.dataset.state = "down";
    el.modelVersion.textContent = label;
    el.tookMs.textContent = "";   // the last timing belongs to a server that answered
    if (!state.readyTimer) state.readyTimer = setTimeout(checkReady, 5000);
  }

  /** Chips that answer an earlier text (the refresh failed) are marked, and said to be. */
  function setStale(stale) {
    if (stale) el.suggestions.dataset.stale = "true";
    else delete el.suggestions.dataset.stale;
    el.staleNote.hidden = !stale || !state.shown.length;
  }

  /* ---------- suggestions ---------- */

  function scheduleSuggest() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(runSuggest, DEBOUNCE_MS);
    setBusy(true);   // the chips are about to change: busy from the keystroke, not the request
  }

  function setBusy(busy) {
    el.busy.hidden = !busy;
    el.suggestions.setAttribute("aria-busy", busy ? "true" : "false");
  }

  /** Start a suggest request now; remembered so a submit can wait for it. */
  function runSuggest() {
    var running = suggestNow();
    state.running = running;
    running.then(function () { if (state.running === running) state.running = null; });
    return running;
  }

  /** Bring the suggestions up to date with the text before the feedback is built:
   * a debounced request still waiting is sent now, one in flight is awaited. */
  async function flushSuggest() {
    if (state.timer) {
      clearTimeout(state.timer);
      await runSuggest();
    } else if (state.running) {
      await state.running;
    }
  }

  async function suggestNow() {
    state.timer = null;
    var title = visibleTitle();
    var description = el.description.value;
    if (state.controller) state.controller.abort();
    var seq = ++state.seq;
    if (!title) {
      state.controller = null;
      state.applied = seq;
      state.shown = [];
      state.removed.clear();
      state.predictionId = null;
      setStale(false);
      setBusy(false);
      clearStatus("suggest");
      renderSuggestions();
      return;
    }
    var controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    // a suggestion that never answers must not keep the chips busy (and Submit waiting)
    var timeout = setTimeout(function () { controller.timedOut = true; controller.abort(); }, SUGGEST_TIMEOUT_MS);
    try {
      var body = await postJSON("v1/suggest", { title: title, description: description }, controller.signal);
      if (seq < state.applied || seq !== state.seq) return;   // stale or out of order
      state.applied = seq;
      state.shown = (body.tags || []).map(function (t) { return { tag: t.tag, score: Number(t.score) }; });
      // Long-tail tags (outside the model's label space, low confidence) come after the
      // head tags, shown apart; the author accepts or removes them like any other.
      var head = new Set(state.shown.map(function (t) { return t.tag; }));
      var tail = (body.long_tail || []).slice().sort(function (a, b) { return Number(b.score) - Number(a.score); });
      tail.forEach(function (t) {
        if (head.has(t.tag)) return;
        head.add(t.tag);
        state.shown.push({ tag: t.tag, score: Number(t.score), longTail: true, source: String(t.source || "zero-shot") });
        state.tail.set(t.tag, String(t.source || "zero-shot"));
      });
      state.shown.forEach(function (t) { state.scores.set(t.tag, t.score); });
      // A tag the author added by hand that the model now suggests is that suggestion,
      // accepted (as addTag does): never both a rejected chip and an added one.
      var nowShown = new Set(state.shown.map(function (t) { return t.tag; }));
      // a removal answers the chips it was made on: a tag no longer suggested is not
      // "removed" (nor restorable, nor reported as rejected) any more
      state.removed.forEach(function (tag) { if (!nowShown.has(tag)) state.removed.delete(tag); });
      var adopted = state.added.filter(function (tag) { return nowShown.has(tag); });
      if (adopted.length) {
        adopted.forEach(function (tag) { state.accepted.add(tag); state.removed.delete(tag); });
        state.added = state.added.filter(function (tag) { return !nowShown.has(tag); });
        renderAdded();
      }
      state.predictionId = body.prediction_id || null;   // links the feedback to this suggestion
      showModel(body.model, body.took_ms);
      setStale(false);
      clearFieldErrors();
      clearStatus("suggest");
      if (el.status.dataset.network === "true") setStatus("", "", []);   // the server is back
      renderSuggestions();
      announceSuggestions();
    } catch (err) {
      if (err && err.name === "AbortError" && !controller.timedOut) return;   // superseded
      if (seq !== state.seq) return;
      state.applied = seq;
      state.predictionId = null;               // no suggestion answers the current text
      setStale(true);                          // chips belong to the previous text
      if (err.problem && err.problem.status === 503) serverDown("no model loaded");
      if (controller.timedOut) {
        showProblem({ title: "The server did not answer in time",
                      detail: "The suggestions shown are for your earlier text; edit it to try again." }, "suggest");
      } else if (err.problem) showProblem(err.problem, "suggest");
      else showNetworkError("suggest", err);
    } finally {
      clearTimeout(timeout);
      if (seq === state.seq && !state.timer) setBusy(false);   // not while newer text waits
    }
  }

  /** Tell screen readers what arrived: the chips change without focus moving. */
  function announceSuggestions() {
    var low = state.shown.filter(function (t) { return t.longTail; }).length;
    var head = state.shown.length - low;
    var msg = head ? head + (head === 1 ? " tag" : " tags") + " suggested" : "No tag suggested";
    if (low) msg += ", " + low + " low-confidence";
    el.announce.textContent = msg + ".";
  }

  function showModel(model, tookMs) {
    if (model && model.name !== undefined) {
      var version = model.version === undefined || model.version === null ? "" : String(model.version);
      // Registry versions are numbers ("v3"); other refs (e.g. a directory) are shown as is.
      var label = model.name + (version ? (/^\d+$/.test(version) ? " v" + version : " · " + version) : "");
      if (el.modelVersion.textContent !== label) el.modelVersion.textContent = label;
      el.modelVersion.dataset.name = String(model.name);
      el.modelVersion.dataset.version = version;
      el.modelVersion.title = "Model that answered the last request";
      el.readyDot.dataset.state = "ready";
    }
    if (typeof tookMs === "number") {
      el.tookMs.textContent = tookMs.toFixed(1) + " ms";
      el.tookMs.title = "Server time for the last suggestion";
    }
  }

  /** The suggestion chips on screen: the model's current answer, plus accepted tags that
   * dropped out of it (an accepted tag stays until the author removes it). */
  function visibleSuggestions() {
    var list = state.shown.filter(function (t) { return !state.removed.has(t.tag); });
    var seen = new Set(list.map(function (t) { return t.tag; }));
    state.accepted.forEach(function (tag) {
      if (!seen.has(tag)) {
        var source = state.tail.get(tag);
        list.push({ tag: tag, score: state.scores.get(tag) || 0, pinned: true,
                    longTail: source !== undefined, source: source });
      }
    });
    return list;
  }

  function renderSuggestions(focusTag) {
    var list = visibleSuggestions();
    var focused = document.activeElement;
    var focusedTag = focused && focused.closest && focused.closest("#suggestions .chip")
      ? focused.closest(".chip").dataset.tag : null;
    var focusedRole = focused && focused.classList ? (focused.classList.contains("chip-remove") ? "remove" : "toggle") : null;

    var before = new Set(Array.from(el.suggestions.querySelectorAll(".chip")).map(function (c) { return c.dataset.tag; }));
    el.suggestions.textContent = "";
    list.forEach(function (t) {
      var chip = suggestionChip(t);
      if (!before.has(t.tag)) chip.classList.add("new");
      el.suggestions.appendChild(chip);
    });

    el.empty.hidden = list.length > 0;
    el.empty.textContent = !visibleTitle()
      ? "Suggestions appear once you type a title."
      : state.shown.length
        ? "You removed every suggestion — restore them, or add tags yourself."
        : "No confident suggestions yet — add more detail or add tags yourself.";
    var nRemoved = Array.from(state.removed).length;
    el.restoreWrap.hidden = nRemoved === 0;
    el.removedCount.textContent = nRemoved === 1 ? "1 tag removed." : nRemoved + " tags removed.";

    var target = focusTag || focusedTag;
    if (target) {
      var chip = el.suggestions.querySelector('.chip[data-tag="' + cssEscape(target) + '"]');
      if (chip) chip.querySelector(focusedRole === "remove" && !focusTag ? ".chip-remove" : ".chip-toggle").focus();
    }
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
  }

  function suggestionChip(t) {
    var accepted = state.accepted.has(t.tag);
    var li = text("li", undefined, "chip" + (accepted ? " accepted" : "") + (t.pinned ? " pinned" : "") +
                  (t.longTail ? " long-tail" : ""));
    li.dataset.tag = t.tag;
    li.dataset.score = String(t.score);
    if (t.longTail) {
      li.dataset.source = "long-tail";
      li.dataset.confidence = "low";
      li.title = "Low confidence: " + t.tag + " is rarely or never in the training data (" +
                 (t.source || "zero-shot") + " match on its name, aliases and description)";
    }

    var toggle = text("button", undefined, "chip-toggle");
    toggle.type = "button";
    toggle.setAttribute("aria-pressed", accepted ? "true" : "false");
    toggle.setAttribute("aria-label", (accepted ? "Accepted: " : "Accept ") + t.tag + ", score " + formatScore(t.score) +
                        (t.longTail ? ", low confidence" : ""));
    toggle.appendChild(text("span", accepted ? "✓" : "+", "chip-mark"));
    var label = text("span", t.tag, "chip-label");
    label.title = t.longTail ? li.title : t.tag;
    toggle.appendChild(label);
    if (t.longTail) {
      var low = text("span", "low", "chip-low");
      low.setAttribute("aria-hidden", "true");
      toggle.appendChild(low);
    }
    var score = text("span", formatScore(t.score), "chip-score");
    score.setAttribute("aria-hidden", "true");
    toggle.appendChild(score);
    toggle.addEventListener("click", function () { toggleAccepted(t.tag); });
    toggle.addEventListener("keydown", function (ev) {
      if (ev.key === "Delete" || ev.key === "Backspace") { ev.preventDefault(); removeSuggestion(t.tag); }
      else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") { ev.preventDefault(); moveChipFocus(li, ev.key === "ArrowRight" ? 1 : -1); }
    });

    var remove = text("button", "×", "chip-remove");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove " + t.tag);
    remove.title = "Remove";
    remove.addEventListener("click", function () { removeSuggestion(t.tag); });

    li.appendChild(toggle);
    li.appendChild(remove);
    return li;
  }

  function moveChipFocus(li, step) {
    var chips = Array.from(li.parentNode.querySelectorAll(".chip"));
    var next = chips[chips.indexOf(li) + step];
    if (next) next.querySelector("button").focus();
  }

  function chipOf(tag) {
    return el.suggestions.querySelector('.chip[data-tag="' + cssEscape(tag) + '"]');
  }

  /** The tag of the chip next to ``tag``'s (after it, else before), taken before a render
   * that may drop ``tag``'s chip, so focus can move there instead of falling to <body>. */
  function neighbourTag(tag) {
    var chips = Array.from(el.suggestions.querySelectorAll(".chip"));
    var idx = chips.findIndex(function (c) { return c.dataset.tag === tag; });
    var neighbour = chips[idx + 1] || chips[idx - 1];
    return neighbour ? neighbour.dataset.tag : null;
  }

  function focusChipOrInput(tag) {
    var chip = tag && chipOf(tag);
    (chip ? chip.querySelector(".chip-toggle") : el.addTag).focus();
  }

  function toggleAccepted(tag) {
    var neighbour = neighbourTag(tag);
    if (state.accepted.has(tag)) state.accepted.delete(tag);
    else state.accepted.add(tag);
    clearStatus("submit");
    renderSuggestions(tag);
    // a kept chip of an earlier text, un-accepted, is gone
    if (!chipOf(tag)) focusChipOrInput(neighbour);
  }

  function removeSuggestion(tag) {
    var neighbour = neighbourTag(tag);
    state.accepted.delete(tag);
    state.removed.add(tag);
    clearStatus("submit");
    renderSuggestions();
    focusChipOrInput(neighbour);
  }

  /* ---------- added tags ---------- */

  function renderAdded(focusAfterRemove) {
    el.added.textContent = "";
    state.added.forEach(function (tag) {
      var li = text("li", undefined, "chip added");
      li.dataset.tag = tag;
      li.appendChild(text("span", tag, "chip-label static"));
      var remove = text("button", "×", "chip-remove");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove " + tag);
      remove.title = "Remove";
      remove.addEventListener("click", function () {
        state.added = state.added.filter(function (t) { return t !== tag; });
        renderAdded(true);
      });
      li.appendChild(remove);
      el.added.appendChild(li);
    });
    el.added.hidden = state.added.length === 0;
    $("added-label").hidden = state.added.length === 0;
    if (focusAfterRemove) el.addTag.focus();
  }

  function addTag(tag) {
    clearStatus("submit");
    clearStatus("add");
    var shown = visibleSuggestions().some(function (t) { return t.tag === tag; });
    state.removed.delete(tag);   // chosen now: never both rejected and added
    if (shown || state.shown.some(function (t) { return t.tag === tag; })) {
      // The model already suggested it: adding it means accepting that suggestion.
      state.accepted.add(tag);
      renderSuggestions();
    } else if (state.added.indexOf(tag) === -1) {
      state.added.push(tag);
      renderAdded();
    }
    el.addTag.value = "";
    closeOptions();
    el.addTag.focus();
  }

  /* ---------- vocabulary autocomplete ---------- */

  var PLACEHOLDER = el.addTag.placeholder;

  /** Load the tag list once; on failure one retry is scheduled (never several loops). */
  async function loadVocabulary() {
    if (state.vocabLoading) return;
    if (state.vocabTimer) { clearTimeout(state.vocabTimer); state.vocabTimer = null; }
    state.vocabLoading = true;
    try {
      // a hung request must not block every later retry (vocabLoading stays set)
      var controller = new AbortController();
      var timeout = setTimeout(function () { controller.abort(); }, 10000);
      var body = await api("v1/tags", { headers: { accept: "application/json" }, signal: controller.signal })
        .finally(function () { clearTimeout(timeout); });
      var vocab = body.vocabulary || body.labels || [];
      state.vocab = vocab.map(function (v) {
        return { tag: v.tag, aliases: v.aliases || [], parents: v.parents || [],
                 in_label_space: v.in_label_space !== undefined ? !!v.in_label_space : true };
      });
      state.canonical = new Map();
      state.vocab.forEach(function (v) {
        state.canonical.set(v.tag.toLowerCase(), v.tag);
      });
      state.vocab.forEach(function (v) {
        v.aliases.forEach(function (a) {
          if (!state.canonical.has(a.toLowerCase())) state.canonical.set(a.toLowerCase(), v.tag);
        });
      });
      el.addTag.placeholder = PLACEHOLDER;
      el.addTag.dataset.vocab = "ready";
      state.vocabTries = 0;
      // text typed before the list arrived is matched now (it found nothing then), and
      // "the tag list has not loaded yet" is no longer true
      if (document.activeElement === el.addTag && el.addTag.value.trim()) openOptions();
      clearStatus("tags");
      clearStatus("add");
    } catch (err) {
      el.addTag.placeholder = "Tag list unavailable — retrying";
      state.vocabTries += 1;
      state.vocabTimer = setTimeout(loadVocabulary, Math.min(30000, 2000 * state.vocabTries));
      // a message about the tag list must not replace what the author is reading (nor
      // the field errors), and says nothing about the server as a whole (readyz does)
      if (!el.status.dataset.kind || el.status.dataset.source === "tags") {
        var why = err.problem ? (err.problem.detail || err.problem.title) : "the server did not answer";
        setStatus("error", "tags", [text("p", "The tag list did not load (" + why + "); retrying…", "status-detail")]);
      }
    } finally {
      state.vocabLoading = false;
    }
  }

  function rankMatch(query, name) {
    if (name === query) return 0;
    if (name.indexOf(query) === 0) return 1;
    if (name.split("-").some(function (part) { return part.indexOf(query) === 0; })) return 2;
    // inside a word only from 4 letters: "agi" must not offer medical-imaging
    if (query.length >= 4 && name.indexOf(query) !== -1) return 3;
    return -1;
  }

  function findOptions(raw) {
    var q = normalise(raw);
    if (!q) return [];
    var taken = new Set(state.added);
    visibleSuggestions().forEach(function (t) { if (state.accepted.has(t.tag)) taken.add(t.tag); });
    var results = [];
    state.vocab.forEach(function (v) {
      if (taken.has(v.tag)) return;
      var best = null;
      var r = rankMatch(q, v.tag.toLowerCase());
      if (r >= 0) best = { rank: r, alias: null };
      v.aliases.forEach(function (a) {
        var ra = rankMatch(q, a.toLowerCase());
        if (ra >= 0 && (best === null || ra < best.rank)) best = { rank: ra, alias: a };
      });
      if (best) results.push({ tag: v.tag, alias: best.alias, rank: best.rank, inModel: v.in_label_space });
    });
    results.sort(function (a, b) {
      return a.rank - b.rank || (b.inModel - a.inModel) || a.tag.length - b.tag.length || a.tag.localeCompare(b.tag);
    });
    return results.slice(0, MAX_OPTIONS);
  }

  function renderOptions() {
    el.listbox.textContent = "";
    if (!state.options.length) {
      if (el.addTag.value.trim() && state.vocab.length) {
        var taken = takenTag(el.addTag.value);
        var none = text("li", taken ? taken + " is already among your tags" : "No matching tag",
                        "option empty-option");
        none.setAttribute("aria-disabled", "true");
        el.listbox.appendChild(none);
        el.listbox.hidden = false;
        el.addTag.setAttribute("aria-expanded", "true");
      } else {
        closeOptions();
      }
      el.addTag.removeAttribute("aria-activedescendant");
      return;
    }
    state.options.forEach(function (opt, i) {
      var li = text("li", undefined, "option");
      li.id = "add-tag-option-" + i;
      li.setAttribute("role", "option");
      li.dataset.tag = opt.tag;
      li.setAttribute("aria-selected", i === state.active ? "true" : "false");
      if (opt.alias) {
        li.appendChild(text("span", opt.alias, "option-alias"));
        li.appendChild(text("span", " → ", "option-arrow"));
      }
      li.appendChild(text("span", opt.tag, "option-tag"));
      if (!opt.inModel) li.appendChild(text("span", "not predicted", "option-note"));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });   // keep focus in input
      li.addEventListener("click", function () { addTag(opt.tag); });
      li.addEventListener("mousemove", function () { if (state.active !== i) { state.active = i; state.picked = true; highlight(); } });
      el.listbox.appendChild(li);
    });
    el.listbox.hidden = false;
    el.addTag.setAttribute("aria-expanded", "true");
    highlight();
  }

  function highlight() {
    Array.from(el.listbox.querySelectorAll('[role="option"]')).forEach(function (li, i) {
      var on = i === state.active;
      li.setAttribute("aria-selected", on ? "true" : "false");
      li.classList.toggle("active", on);
      if (on) li.scrollIntoView({ block: "nearest" });
    });
    if (state.active >= 0) el.addTag.setAttribute("aria-activedescendant", "add-tag-option-" + state.active);
    else el.addTag.removeAttribute("aria-activedescendant");
  }

  function closeOptions() {
    state.options = [];
    state.active = -1;
    el.listbox.hidden = true;
    el.listbox.textContent = "";
    el.addTag.setAttribute("aria-expanded", "false");
    el.addTag.removeAttribute("aria-activedescendant");
  }

  function openOptions() {
    state.options = findOptions(el.addTag.value);
    state.active = state.options.length ? 0 : -1;
    state.picked = false;
    state.dismissed = false;
    renderOptions();
  }

  /** The canonical tag a typed name or alias stands for, if the author already has it. */
  function takenTag(raw) {
    var tag = state.canonical.get(normalise(raw)) || state.canonical.get(raw.trim().toLowerCase());
    if (!tag) return null;
    var accepted = visibleSuggestions().some(function (t) { return t.tag === tag && state.accepted.has(tag); });
    return accepted || state.added.indexOf(tag) !== -1 ? tag : null;
  }

  function commitTyped() {
    var raw = el.addTag.value;
    var option = state.active >= 0 ? state.options[state.active] : null;
    // a highlight the author chose wins; otherwise the name typed in full does (a tag
    // already chosen is said so, not swapped for the first longer match, e.g. audio-tagging)
    if (option && state.picked) { addTag(option.tag); return; }
    if (!raw.trim()) return;
    var taken = takenTag(raw);
    if (taken) {
      setStatus("error", "add", [text("p", "“" + raw.trim() + "” (" + taken + ") is already among your tags.", "status-detail")]);
      return;
    }
    var tag = state.canonical.get(normalise(raw)) || state.canonical.get(raw.trim().toLowerCase());
    if (tag) { addTag(tag); return; }
    // the highlight dropped by a blur (pressing Add) still counts; options the author
    // closed with Escape do not
    if (!option && !state.dismissed) option = findOptions(raw)[0];
    if (option) { addTag(option.tag); return; }
    if (!state.vocab.length) {
      setStatus("error", "add", [text("p", "The tag list has not loaded yet; try again in a moment.", "status-detail")]);
      loadVocabulary();
      return;
    }
    setStatus("error", "add", [text("p", "“" + raw.trim() + "” is not a known tag. Pick one from the list.", "status-detail")]);
  }

  /* ---------- submit ---------- */

  function chipKey() {
    return visibleSuggestions().map(function (t) { return t.tag; }).join("\n");
  }

  function info(message) {
    setStatus("info", "submit", [text("p", message, "status-detail")]);
  }

  async function submit(ev) {
    if (ev) ev.preventDefault();
    if (state.submitting) return;
    var title = visibleTitle();
    clearFieldErrors();
    if (!title) {
      el.title.setAttribute("aria-invalid", "true");
      el.titleError.textContent = "Please enter a title.";
      el.title.focus();
      return;
    }
    var hadFocus = document.activeElement === el.submit, generation = state.generation;
    setSubmitting(true);
    try {
      await send(title);
    } finally {
      // after "Start over" the button already belongs to the next project
      if (state.generation === generation) {
        setSubmitting(false);
        // a disabled button drops focus to <body>: put it back, unless send() moved it
        if (hadFocus && (!document.activeElement || document.activeElement === document.body)) el.submit.focus();
      }
    }
  }

  function setSubmitting(on) {
    state.submitting = on;
    el.submit.disabled = on;
    if (on) el.submit.setAttribute("aria-busy", "true");
    else el.submit.removeAttribute("aria-busy");
  }

  async function send(title) {
    // The feedback must describe the suggestions for *this* text: a refresh still
    // pending (typed within the debounce) is made first, and again while the author
    // keeps typing; if it changes the chips, the author sees them before anything is saved.
    var before = chipKey(), generation = state.generation;
    while (state.timer || state.running) await flushSuggest();
    if (state.generation !== generation) return;   // started over meanwhile: not this project
    if (visibleTitle() !== title) {
      info("Your title changed while the suggestions were updated — review them, then submit again.");
      return;
    }
    if (chipKey() !== before) {
      info("Suggestions were updated for your latest text — review them, then submit again.");
      return;
    }
    var pending = el.addTag.value.trim();
    if (pending) {
      info("“" + pending + "” in Add a tag is not added yet — press Enter to add it, or clear it.");
      el.addTag.focus();
      return;
    }
    var payload = feedbackPayload(title);
    // the same choice for the same text is saved once (a fresh prediction id is no change)
    var key = JSON.stringify(Object.assign({}, payload, { prediction_id: undefined }));
    if (state.lastSaved && state.lastSaved.key === key) {
      info("Already saved as reference " + state.lastSaved.id +
           ". Change the tags, or start over for another project.");
      return;
    }
    var controller = new AbortController();
    var timeout = setTimeout(function () { controller.abort(); }, FEEDBACK_TIMEOUT_MS);
    try {
      var body = await postJSON("v1/feedback", payload, controller.signal);
      var id = body && body.id !== undefined ? body.id : "";
      if (state.generation !== generation) {   // the form holds another project by now
        var said = "Your previous project was saved as reference " + id + ".";
        if (!el.status.dataset.kind) info(said);   // never over the new project's status
        else el.announce.textContent = said;
        return;
      }
      var p = text("p", "", "status-title");
      p.appendChild(text("strong", "Thanks — feedback saved."));
      var detail = text("p", "", "status-detail");
      detail.appendChild(document.createTextNode("Reference "));
      var code = text("code", String(id), "feedback-id");
      code.id = "feedback-id";
      code.dataset.testid = "feedback-id";
      detail.appendChild(code);
      detail.appendChild(document.createTextNode(
        " · " + payload.accepted.length + " accepted, " + payload.added.length + " added"));
      setStatus("success", "submit", [p, detail]);
      el.status.dataset.feedbackId = String(id);
      state.lastSaved = { key: key, id: String(id) };
    } catch (err) {
      if (state.generation !== generation) return;
      if (err && err.name === "AbortError") {
        showProblem({ title: "The server did not answer in time",
                      detail: "Your feedback may not have been saved; submit again to make sure." }, "submit");
      } else if (err.problem) showProblem(err.problem, "submit");
      else showNetworkError("submit", err);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** What the author saw and chose. ``suggested`` is the model's current answer only (the
   * chips of this prediction, removed ones included); an accepted chip kept from an earlier
   * text is the author's own tag, so it is sent as added, as are the chips of a failed
   * refresh (they answered another text). */
  function feedbackPayload(title) {
    var stale = el.suggestions.dataset.stale === "true";
    var current = stale ? [] : state.shown.map(function (t) { return t.tag; });
    var accepted = current.filter(function (tag) { return state.accepted.has(tag) && !state.removed.has(tag); });
    var added = [];
    visibleSuggestions().forEach(function (t) {
      if (state.accepted.has(t.tag) && accepted.indexOf(t.tag) === -1) added.push(t.tag);
    });
    state.added.forEach(function (tag) { if (added.indexOf(tag) === -1) added.push(tag); });
    var payload = { title: title, description: el.description.value,
                    suggested: current, accepted: accepted, added: added };
    if (!stale && state.predictionId) payload.prediction_id = state.predictionId;
    return payload;
  }

  function resetAll() {
    state.generation++;
    setSubmitting(false);   // a save still in flight finishes on its own; it says so
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    if (state.controller) state.controller.abort();
    state.seq++;
    state.applied = state.seq;
    state.shown = [];
    state.scores.clear();
    state.tail.clear();
    state.accepted.clear();
    state.removed.clear();
    state.added = [];
    state.predictionId = null;
    state.lastSaved = null;
    el.tookMs.textContent = "";
    el.announce.textContent = "";
    el.title.value = "";
    el.description.value = "";
    el.addTag.value = "";
    closeOptions();
    clearFieldErrors();
    setStatus("", "", []);
    setStale(false);
    setBusy(false);
    renderSuggestions();
    renderAdded();
    el.title.focus();
  }

  async function checkReady() {
    state.readyTimer = null;
    try {
      var response = await fetch("readyz", { headers: { accept: "application/json" } });
      var body = null;
      try { body = await response.json(); } catch (e) { body = null; }
      if (response.ok) {
        el.readyDot.dataset.state = "ready";
        if (body && body.model) showModel(body.model);
        else if (el.modelVersion.textContent === "connecting…") el.modelVersion.textContent = "model ready";
        if (el.status.dataset.network === "true") setStatus("", "", []);
        if (!state.vocab.length) loadVocabulary();   // cancels a pending retry, loads now
        // back after an outage: chips still answering an earlier text are refreshed
        if (el.suggestions.dataset.stale === "true" && visibleTitle()) scheduleSuggest();
      } else {
        serverDown("no model loaded");
      }
    } catch (err) {
      serverDown("server unreachable");
    }
  }

  /* ---------- wiring ---------- */

  el.title.addEventListener("input", function () {
    if (el.title.getAttribute("aria-invalid")) { el.title.removeAttribute("aria-invalid"); el.titleError.textContent = ""; }
    scheduleSuggest();
  });
  /** Enter that confirms an IME composition (Japanese, Chinese…) is text, not a command. */
  function composing(ev) { return ev.isComposing || ev.keyCode === 229; }

  el.title.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || composing(ev)) return;
    ev.preventDefault();
    if (ev.ctrlKey || ev.metaKey) submit();   // Ctrl/⌘+Enter submits, as in the description
    else el.description.focus();
  });
  el.description.addEventListener("input", scheduleSuggest);
  el.description.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && !composing(ev)) { ev.preventDefault(); submit(); }   // Ctrl/⌘+Enter submits
  });
  el.form.addEventListener("submit", submit);
  el.restore.addEventListener("click", function () {
    state.removed.clear();
    renderSuggestions();
    var first = el.suggestions.querySelector(".chip-toggle");
    (first || el.addTag).focus();
  });
  el.reset.addEventListener("click", resetAll);

  el.addTag.addEventListener("input", function () { clearStatus("add"); openOptions(); });
  el.addTag.addEventListener("focus", function () { if (el.addTag.value.trim()) openOptions(); });
  el.addTag.addEventListener("blur", function () { setTimeout(closeOptions, 0); });
  el.addTag.addEventListener("keydown", function (ev) {
    if (composing(ev)) return;
    var n = state.options.length;
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      if (el.listbox.hidden) { openOptions(); return; }
      if (n) { state.active = (state.active + 1) % n; state.picked = true; highlight(); }
    } else if (ev.key === "ArrowUp") {
      ev.preventDefault();
      if (n) { state.active = (state.active - 1 + n) % n; state.picked = true; highlight(); }
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      commitTyped();
    } else if (ev.key === "Escape") {
      if (!el.listbox.hidden) { ev.preventDefault(); closeOptions(); state.dismissed = true; }
      else if (el.addTag.value) { ev.preventDefault(); el.addTag.value = ""; }
    } else if (ev.key === "Tab") {
      closeOptions();
    }
  });
  // pressing Add must not blur the input first: blur closes the options and drops the highlight
  el.addTagButton.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
  el.addTagButton.addEventListener("click", function () { commitTyped(); });

  renderSuggestions();
  renderAdded();
  checkReady();
  loadVocabulary();
  if (visibleTitle()) scheduleSuggest();   // e.g. restored form values after reload
})();
