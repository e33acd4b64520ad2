"""The search and impact pages in headless Chromium against the real server.

The server (``live_server``: ``tagwise serve`` on the tiny model) builds its index from
the tiny corpus on first start (``TAGWISE_SEARCH__CATALOGUE``). type a query → results
with <mark> → click a facet → results filtered, facet pressed → open related projects;
markup in a project title stays text; the impact page charts the feedback.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is not installed")
from held_routes import HeldRequests
from playwright.sync_api import Page, expect

ROOT = Path(__file__).parents[2]
DOCS_SCREENSHOT = ROOT / "docs" / "search.png"
"""Refreshed only with TAGWISE_UPDATE_SCREENSHOT=1, so a test run leaves the tree clean."""

HITS = "#hits .hit"


def _request(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def search_server(live_server):
    """The live server once its index answers (built in the background at startup)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            _request(f"{live_server.url}/v1/search")
            return live_server
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_search_facets_and_related(page: Page, search_server, tmp_path) -> None:
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS)).to_have_count(10)  # browse: newest first

    page.get_by_label("Search projects").fill("detection")
    expect(page.locator(f"{HITS} mark").first).to_be_visible()
    expect(page.get_by_test_id("summary")).to_contain_text("projects")
    total_text = page.get_by_test_id("summary").inner_text()
    before = int(total_text.split()[0])
    assert before >= 2

    facet = page.locator("#facets .facet[data-tag='computer-vision']")
    facet.click()
    expect(facet).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("selected-tags")).to_contain_text("computer-vision")
    expect(page.get_by_test_id("summary")).not_to_have_text(total_text)
    after = int(page.get_by_test_id("summary").inner_text().split()[0])
    assert 1 <= after <= before
    assert "tags=computer-vision" in page.url
    for hit in page.locator(HITS).all():
        tags = hit.locator(".chip-author, .chip-suggested").all_inner_texts()
        assert tags, "every filtered hit shows its tags"

    first = page.locator(HITS).first
    assert (
        first.locator(".chip-suggested .chip-score").count() + first.locator(".chip-author").count()
        >= 1
    )
    first.get_by_role("button", name="Related projects").click()
    expect(first.locator(".related-item").first).to_be_visible()
    expect(first.get_by_role("button", name="Related projects")).to_have_attribute(
        "aria-expanded", "true"
    )

    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    if os.environ.get("TAGWISE_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)

    facet.click()  # toggles the filter off again
    expect(page.get_by_test_id("selected-tags")).to_be_hidden()


def test_keyboard_and_escaped_markup(page: Page, search_server) -> None:
    _request(
        f"{search_server.url}/v1/projects",
        {"id": 77001, "title": "<img src=x onerror=alert(1)> Xylograph", "tags": ["cv"]},
    )
    page.goto(search_server.url + "/search")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    search = page.get_by_label("Search projects")
    search.focus()
    page.keyboard.type("xylograph")
    page.keyboard.press("Enter")
    title = page.locator(f"{HITS} .hit-title").first
    expect(title).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator(f"{HITS} img").count() == 0
    assert title.locator("mark").inner_text().lower() == "xylograph"


def test_bad_dates_show_the_problem(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search?from=2022-01-02&to=2021-01-01")
    expect(page.get_by_test_id("search-error")).to_contain_text("from")


def test_an_error_clears_the_results_of_the_previous_query(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    page.locator("#from").fill("2022-01-02")
    page.locator("#to").fill("2021-01-01")
    page.locator("#to").dispatch_event("change")
    expect(page.get_by_test_id("search-error")).to_contain_text("from")
    expect(page.locator(HITS)).to_have_count(0)
    expect(page.get_by_test_id("summary")).to_have_text("")
    expect(page.locator("#facets .facet")).to_have_count(0)  # the facets answered it too


def test_no_answer_clears_the_results_too(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    page.route("**/v1/search?**", lambda route: route.abort())
    page.locator("#q").fill("gan")
    expect(page.get_by_test_id("search-error")).to_have_text("the server did not answer")
    expect(page.locator(HITS)).to_have_count(0)
    expect(page.locator("#hits")).to_have_attribute("aria-busy", "false")


def test_impact_page_charts_feedback(page: Page, search_server) -> None:
    _request(
        f"{search_server.url}/v1/feedback",
        {
            "title": "t",
            "suggested": ["computer-vision", "object-detection"],
            "accepted": ["computer-vision"],
            "added": ["transformers"],
        },
    )
    page.goto(search_server.url + "/impact")
    expect(page.get_by_test_id("impact")).to_contain_text("tagwise impact")  # not computed
    stats = page.get_by_test_id("stats")
    expect(stats.locator("svg[role='img']").first).to_be_visible()
    expect(stats).to_contain_text("of suggested tags kept")
    expect(stats.locator("svg[aria-label*='transformers']")).to_have_count(1)
    # drawn at their own size on a desktop screen: 11px chart text stays 11px
    scale = page.evaluate(
        "Math.min(...[...document.querySelectorAll('#stats svg')].map("
        "s => s.getBoundingClientRect().width / s.viewBox.baseVal.width))"
    )
    assert scale > 0.99, scale
    # a phone (turned from the desktop size: the charts are drawn again for the room):
    # shorter bars, the same 11 px text
    smallest_text_px = (
        "Math.min(...[...document.querySelectorAll('#stats svg')].map("
        "s => 11 * s.getBoundingClientRect().width / s.viewBox.baseVal.width))"
    )
    page.set_viewport_size({"width": 375, "height": 740})
    page.wait_for_function(f"{smallest_text_px} >= 10")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function(f"{smallest_text_px} > 10.9")  # and back at full length
    page.route("**/v1/stats?**", lambda route: route.abort())
    page.locator("#period").select_option("week")
    expect(stats).to_have_text("the server did not answer")


def test_typing_a_partial_word_already_finds_projects(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    page.locator("#q").press_sequentially("learnin", delay=20)
    expect(page).to_have_url(re.compile(r"q=learnin(&|$)"))
    expect(page.get_by_test_id("summary")).to_have_text(re.compile(r"^[1-9]\d* project"))
    # the word being typed is found and highlighted whole ("learnin" → learning)
    expect(page.locator(f"{HITS} mark").first).to_have_text(re.compile(r"^learnin", re.I))
    typed = page.get_by_test_id("summary").inner_text().split(" ")[0]
    page.locator("#q").press("Enter")  # sending it keeps what typing found
    expect(page.get_by_test_id("summary")).to_have_text(re.compile(rf"^{typed} project"))
    page.reload()  # and so does the link
    expect(page.get_by_test_id("summary")).to_have_text(re.compile(rf"^{typed} project"))


def test_a_link_with_an_alias_or_an_odd_offset_is_made_canonical(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search?tags=nlp&offset=5000")
    expect(page.locator(HITS).first).to_be_visible()
    expect(page).to_have_url(re.compile(r"tags=natural-language-processing"))
    expect(page.locator("#selected .chip")).to_have_count(1)
    info = page.locator("#page-info").inner_text()  # the last page, not "Page 501 of 2"
    page_no, pages = re.match(r"Page (\d+) of (\d+)", info).groups()
    assert page_no == pages
    pressed = page.locator("#facets .facet[aria-pressed='true']")
    expect(pressed).to_have_count(1)
    expect(pressed).to_have_attribute("data-tag", "natural-language-processing")


def test_a_tag_on_a_result_filters_by_it(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    chip = page.locator(f"{HITS} .chip-author .chip-filter").first
    expect(chip).to_be_visible()
    summary = page.get_by_test_id("summary")
    expect(summary).to_have_text(re.compile(r"^\d+ project"))
    before = int(summary.inner_text().split()[0])
    tag = chip.get_attribute("data-tag")
    chip.click()
    expect(page).to_have_url(re.compile(r"tags=" + re.escape(tag)))
    expect(page.locator(f"#facets .facet[data-tag='{tag}']")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#selected")).to_contain_text(tag)
    expect(summary).not_to_have_text(f"{before} projects", timeout=5000)
    assert 0 < int(summary.inner_text().split()[0]) < before  # narrowed to that tag


def test_all_or_any_shows_only_with_two_tags(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    mode = page.get_by_test_id("mode")
    expect(mode).to_be_hidden()
    page.goto(search_server.url + "/search?tags=computer-vision")
    expect(mode).to_be_hidden()
    page.goto(search_server.url + "/search?tags=computer-vision&tags=natural-language-processing")
    expect(mode).to_be_visible()


@pytest.mark.parametrize("typed_results_first", [False, True], ids=["enter", "typed-then-enter"])
def test_back_returns_to_the_previous_search(
    page: Page, search_server, typed_results_first: bool
) -> None:
    # typing replaces its own history entry, never the search before it: Enter after the
    # search-as-you-type results arrived must still leave "gan" one Back away
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    for q in ("gan", "bert"):
        if typed_results_first:  # two debounced searches: one history entry between them
            for typed in (q[:2], q):
                page.locator("#q").fill(typed)
                expect(page).to_have_url(re.compile(rf"q={typed}(&|$)"))
        else:
            page.locator("#q").fill(q)
        page.locator("#q").press("Enter")
        expect(page).to_have_url(re.compile(rf"q={q}(&|$)"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=gan(&|$)"))
    expect(page.locator("#q")).to_have_value("gan")
    page.go_back()  # and before "gan", the page as it was opened
    expect(page.locator("#q")).to_have_value("")
    expect(page).not_to_have_url(re.compile(r"q="))


def _search(page: Page, q: str, *, enter: bool) -> None:
    """Type ``q``, wait for its as-you-type results (its URL), and press Enter if asked."""
    page.locator("#q").fill(q)
    expect(page).to_have_url(re.compile(rf"q={q}(&|$)"))
    if enter:
        page.locator("#q").press("Enter")


def test_a_page_step_after_typing_keeps_the_typed_search_in_history(
    page: Page, search_server
) -> None:
    page.goto(search_server.url + "/search")
    _search(page, "gan", enter=True)
    _search(page, "learning", enter=False)  # typed, its results on screen: then Next
    page.locator("#next").click()
    expect(page).to_have_url(re.compile(r"offset=10"))
    page.go_back()  # page 1 of the typed search, not the search before it
    expect(page).to_have_url(re.compile(r"q=learning$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=gan$"))


def test_typing_back_to_the_last_search_leaves_no_second_copy(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    _search(page, "gan", enter=True)
    depth = page.evaluate("history.length")
    _search(page, "ganx", enter=False)
    _search(page, "gan", enter=False)  # back to where typing started
    expect(page.locator("#q")).to_have_value("gan")
    assert page.evaluate("history.length") == depth + 1  # the typed entry, now forward
    page.go_back()  # one Back leaves "gan"
    expect(page).not_to_have_url(re.compile(r"q="))


def _search_requests(page: Page) -> list[str]:
    """The query strings of the page's /v1/search requests, in order."""
    seen: list[str] = []

    def on_request(request) -> None:
        if "/v1/search?" in request.url:
            seen.append(request.url.split("?", 1)[1].replace("&limit=10&prefix=true", ""))

    page.on("request", on_request)
    return seen


def test_a_typed_date_is_one_search_and_one_history_entry(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    asked = _search_requests(page)
    depth = page.evaluate("history.length")
    page.locator("#from").focus()
    page.keyboard.type("03012020", delay=40)  # 0002-03-01, 0020-03-01 … as it is typed
    expect(page).to_have_url(re.compile(r"from=2020-03-01$"))
    expect(page.locator("#hits")).to_have_attribute("aria-busy", "false")
    assert asked == ["from=2020-03-01"]
    assert page.evaluate("history.length") == depth + 1


def test_a_double_click_on_next_moves_one_page(page: Page, search_server) -> None:
    page.set_viewport_size({"width": 1280, "height": 3000})  # Next stays under the pointer
    page.goto(search_server.url + "/search?tags=computer-vision")
    expect(page.locator(HITS).first).to_be_visible()
    depth = page.evaluate("history.length")
    page.locator("#next").dblclick()
    expect(page).to_have_url(re.compile(r"offset=10$"))
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 2 of"))
    assert page.evaluate("history.length") == depth + 1
    page.go_back()
    expect(page.locator("#page-info")).to_have_text(re.compile(r"^Page 1 of"))


def test_keyboard_focus_stays_on_a_pressed_facet(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    facet = page.locator("#facets .facet").first
    expect(facet).to_be_visible()
    tag = facet.get_attribute("data-tag")
    facet.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#selected .chip")).to_have_count(1)
    pressed = page.locator(f'#facets .facet[data-tag="{tag}"]')
    expect(pressed).to_have_attribute("aria-pressed", "true")
    expect(pressed).to_be_focused()  # drawn again, and focused again
    page.locator("#clear-tags").focus()
    page.keyboard.press("Enter")  # the button hides: focus goes to the results, not the top
    expect(page.locator("#selected .chip")).to_have_count(0)
    expect(page.locator("#results-heading")).to_be_focused()


def test_links_the_page_cannot_show_as_written_are_mended(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search?q=zzzqqqxx&offset=20")  # past the end of nothing
    expect(page).not_to_have_url(re.compile(r"offset="))
    expect(page.locator("#page-info")).to_have_text("Page 1 of 1")
    expect(page.locator("#prev")).to_be_disabled()
    page.goto(search_server.url + "/search?offset=20000")  # beyond the API's 10,000
    expect(page.locator(HITS).first).to_be_visible()
    expect(page.locator("#search-error")).to_be_empty()
    page.goto(search_server.url + "/search?from=2020-03-01T12:00:00")  # a date-time: its day
    expect(page.locator("#from")).to_have_value("2020-03-01")
    expect(page).to_have_url(re.compile(r"from=2020-03-01$"))


@pytest.mark.parametrize("then", ["keystroke", "enter"])
def test_the_url_follows_the_query_typed_as_the_page_steps_back(
    page: Page, search_server, then: str
) -> None:
    # typing back to the previous search steps back in history (no second copy); input in
    # the moment that step takes must still end with URL, box and results agreeing
    page.goto(search_server.url + "/search")
    expect(page.locator(HITS).first).to_be_visible()
    _search(page, "gan", enter=True)
    _search(page, "ganx", enter=False)
    asked = _search_requests(page)
    action = {
        "keystroke": "q.value = 'gany'; q.dispatchEvent(new Event('input', {bubbles: true}));",
        "enter": "q.value = 'gany'; document.getElementById('search-form').requestSubmit();",
    }[then]
    page.evaluate(
        "() => { const q = document.getElementById('q'); q.value = 'gan';"
        " q.dispatchEvent(new Event('input', {bubbles: true}));"
        f" setTimeout(() => {{ {action} }}, 201); }}"  # just after the 200 ms debounce
    )
    expect(page).to_have_url(re.compile(r"q=gany$"))
    expect(page.locator("#q")).to_have_value("gany")
    expect(page.locator("#hits")).to_have_attribute("aria-busy", "false")
    assert asked[-1] == "q=gany"
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=gan$"))
    expect(page.locator("#q")).to_have_value("gan")


def test_a_link_with_an_alias_keeps_one_url_per_search(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search?tags=nlp&from=2015-01-01")
    expect(page).to_have_url(re.compile(r"\?tags=natural-language-processing&from=2015-01-01$"))
    depth = page.evaluate("history.length")
    page.locator("#q").press("Enter")  # the same search, confirmed: no second entry
    expect(page.locator("#hits")).to_have_attribute("aria-busy", "false")
    assert page.evaluate("history.length") == depth


def test_focus_is_not_taken_back_from_a_visitor_who_moved_on(page: Page, search_server) -> None:
    page.goto(search_server.url + "/search")
    facets = page.locator("#facets .facet")
    expect(facets.nth(1)).to_be_visible()
    pressed = facets.first.get_attribute("data-tag")
    held = HeldRequests(page, "**/v1/search?**")
    facets.first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # on to the next facet while the answer is on its way
    held.release()
    expect(page.locator("#selected .chip")).to_have_count(1)
    expect(page.locator("#hits")).to_have_attribute("aria-busy", "false")
    assert page.evaluate("document.activeElement.dataset.tag || ''") != pressed
