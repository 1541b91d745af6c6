"""The built site in a real browser: Debian's headless Chromium, driven by Playwright.

Every page named in the issue (landing page, gallery index, each example page,
API index; the installation and performance pages too) is opened over HTTP
from 127.0.0.1 and must load without a console error, an uncaught exception, a
failed request or a request that leaves the machine: the site must work
offline, so every request to another host is blocked and reported. Each example page must show at least
as many figures as its layers require, each at the column's full width (no cell shows
its figures in a row), and offer its downloads. Every internal
link of the site, ``#anchors`` included, must resolve.

A full-page screenshot of each page goes to ``$CNNVIZ_SCREENSHOT_DIR``
(``/tmp/screens`` by default) for a person to look at.
"""

from __future__ import annotations

import html.parser
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
# One folder per gallery section; sphinx-gallery builds auto_examples/<section>/<stem>.html.
EXAMPLES = sorted(EXAMPLES_DIR.glob("*/plot_*.py"))
# "getting_started/plot_01_fashion_mnist": the page's path below auto_examples, no suffix.
EXAMPLE_PAGES = [
    example.relative_to(EXAMPLES_DIR).with_suffix("").as_posix() for example in EXAMPLES
]
# The sections' titles (first line of each README.txt), in the order of docs/conf.py.
SECTIONS = [
    "Getting started",
    "Inside the network",
    "Explaining predictions",
    "What the channels learned",
    "What padding does",
]
SCREENS = Path(os.environ.get("CNNVIZ_SCREENSHOT_DIR", "/tmp/screens"))

FIGURE_SELECTOR = "img.sphx-glr-single-img, img.sphx-glr-multi-img"

PAGES = [
    "index.html",
    "installation.html",
    "auto_examples/index.html",
    *(f"auto_examples/{example}.html" for example in EXAMPLE_PAGES),
    "api.html",
    "performance.html",
    "refusals.html",
    "architecture.html",
    "explorer.html",  # the page about the explorer; the explorer itself: test_explorer.py
]


@dataclass
class Visit:
    """What the browser saw while loading one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every request to the site, in order


def visit(browser, site_url: str, path: str, screenshot: Path | None = None):
    """Open one page; return the page (still open), what went wrong, and its context."""
    origin = urllib.parse.urlsplit(site_url).netloc
    seen = Visit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def route(route) -> None:
        if urllib.parse.urlsplit(route.request.url).netloc == origin:
            seen.requests.append(route.request.url)
            route.continue_()
        else:  # the site must not need the network
            seen.external_requests.append(route.request.url)
            route.abort()

    def on_console(message) -> None:
        if message.type == "error":
            seen.console_errors.append(f"{message.text} {message.location}")

    def on_request_failed(request) -> None:
        if urllib.parse.urlsplit(request.url).netloc == origin:  # blocked ones are listed above
            seen.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response) -> None:
        if response.status >= 400:
            seen.bad_responses.append(f"{response.status} {response.url}")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    response = page.goto(site_url + path, wait_until="load")
    assert response is not None, path
    assert response.status == 200, f"{path}: HTTP {response.status}"
    page.wait_for_load_state("networkidle")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    # Images below the fold load too (the screenshot scrolled the whole page).
    broken_images = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    seen.failed_requests.extend(f"image did not load: {src}" for src in broken_images)
    return page, seen, context


def assert_clean(path: str, seen: Visit) -> None:
    problems = {name: value for name, value in vars(seen).items() if value and name != "requests"}
    assert not problems, f"{path}: {problems}"


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_cleanly(browser, site_url, site_dir, path):
    """No console error, no uncaught exception, no failed or external request."""
    name = path.replace("/", "_").removesuffix(".html")
    page, seen, context = visit(browser, site_url, path, SCREENS / f"{name}.png")
    try:
        links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert page.title(), f"{path} has no title"
    finally:
        context.close()
    assert_clean(path, seen)
    internal = [link for link in links if link.startswith(site_url)]
    assert internal, f"{path} links to nothing on the site"
    assert not broken_links(site_url, internal), f"{path}: {broken_links(site_url, internal)}"


@pytest.mark.parametrize("example", EXAMPLE_PAGES)
def test_example_page_shows_every_figure(browser, site_url, site_dir, min_figures, example):
    """Enough figures for the layers, all loaded, and the .py and .ipynb downloads."""
    path = f"auto_examples/{example}.html"
    example = example.rpartition("/")[2]  # downloads and figure counts go by file name
    page, seen, context = visit(browser, site_url, path)
    try:
        figures = page.eval_on_selector_all(
            FIGURE_SELECTOR, "imgs => imgs.map(i => [i.src, i.naturalWidth])"
        )
        downloads = page.eval_on_selector_all("a[download]", "links => links.map(a => a.href)")
        title = page.locator("h1").first.inner_text()
    finally:
        context.close()
    assert_clean(path, seen)
    assert len(figures) >= min_figures[example], (
        f"{path} shows {len(figures)} figures; its layers need {min_figures[example]}"
    )
    assert all(width > 0 for _, width in figures), f"{path}: a figure did not load: {figures}"
    assert title.strip(), f"{path} has no heading"
    for suffix in (".py", ".ipynb"):
        assert any(link.endswith(f"/{example}{suffix}") for link in downloads), (
            f"{path} offers no {suffix} download: {downloads}"
        )
    assert not broken_links(site_url, downloads), broken_links(site_url, downloads)


def test_the_epoch_animation_plays_offline_with_labelled_buttons(browser, site_url, site_dir):
    """matplotlib's player without its CDN icons: every button labelled, frames step."""
    path = "auto_examples/channels/plot_05_how_the_filters_formed.html"
    page, seen, context = visit(browser, site_url, path)
    try:
        player = page.locator(".animation").first
        labels = player.locator("button").evaluate_all(
            "buttons => buttons.map(b => [b.getAttribute('aria-label'), b.innerText.trim()])"
        )
        frame = player.locator("img").first
        first = frame.get_attribute("src")
        width = frame.evaluate("img => img.naturalWidth")
        player.locator("button[aria-label='Next frame']").click()
        second = frame.get_attribute("src")
        slider = player.locator("input[type=range]").first
        frames = int(slider.get_attribute("max")) + 1
    finally:
        context.close()
    assert_clean(path, seen)
    assert len(labels) == 9, labels
    assert all(label and text for label, text in labels), labels  # a name and a visible symbol
    assert width > 0
    assert second != first  # the next epoch's frame
    assert frames == 31  # epochs 0 to 30


def test_gallery_index_has_thumbnails_and_zips(browser, site_url, site_dir):
    """One real thumbnail per example (not the placeholder), and the zips of all examples."""
    path = "auto_examples/index.html"
    page, seen, context = visit(browser, site_url, path)
    try:
        thumbnails = page.eval_on_selector_all(
            ".sphx-glr-thumbcontainer img", "imgs => imgs.map(i => [i.src, i.naturalWidth])"
        )
        zips = page.eval_on_selector_all("a[href$='.zip']", "links => links.map(a => a.href)")
        headings = [text.strip() for text in page.locator("h2").all_inner_texts()]
    finally:
        context.close()
    assert_clean(path, seen)
    assert [h for h in headings if h in SECTIONS] == SECTIONS, headings
    assert len(thumbnails) == len(EXAMPLES), thumbnails
    for src, width in thumbnails:
        assert width > 0, f"broken thumbnail: {src}"
        assert "no_image" not in src, f"placeholder instead of a figure: {src}"
    assert any(z.endswith("_python.zip") for z in zips), zips
    assert any(z.endswith("_jupyter.zip") for z in zips), zips
    assert not broken_links(site_url, zips), broken_links(site_url, zips)


def test_api_pages_list_the_examples_that_use_them(site_dir):
    """sphinx-gallery's backreferences: each API page of a function the examples call links back."""
    used = {
        "load_fashion_mnist",
        "plot_images",
        "lenet5",
        "output_size",
        "trained_lenet5",
        "evaluate",
        "layer_outputs",
        "plot_layer_outputs",
        "plot_feature_maps",
        "plot_probabilities",
        "plot_side_by_side",
        "plot_history",
    }
    for name in sorted(used):
        text = (site_dir / "generated" / f"cnnviz.{name}.html").read_text(encoding="utf-8")
        assert "Examples using <code" in text, name
        assert "sphx-glr-thumbcontainer" in text, name


# -- Figures at full width -------------------------------------------------------


class _FigureRows(html.parser.HTMLParser):
    """Count the images of each ``ul.sphx-glr-horizontal`` of one page.

    sphinx-gallery shows one figure of a cell as ``img.sphx-glr-single-img`` at the
    column's width, and the figures of a cell that draws several as one row, a
    ``ul.sphx-glr-horizontal`` of ``img.sphx-glr-multi-img``, each at a fraction of it.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[int] = []  # images per horizontal row, in page order
        self._depth = 0  # nesting of <ul> inside the current row; 0: outside any row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "ul":
            if self._depth:
                self._depth += 1
            elif "sphx-glr-horizontal" in classes:
                self._depth = 1
                self.rows.append(0)
        elif tag == "img" and self._depth:
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self._depth:
            self._depth -= 1


@pytest.mark.parametrize("example", EXAMPLE_PAGES)
def test_no_cell_shows_a_row_of_figures(site_dir, example):
    """One figure per cell: a row of several figures squeezes each to a fraction of the column.

    A cell that wants two models side by side draws one figure holding both
    (``fig.subfigures(1, 2)``, or one grid), which is shown at the full width.
    """
    parser = _FigureRows()
    parser.feed((site_dir / "auto_examples" / f"{example}.html").read_text(encoding="utf-8"))
    rows = [images for images in parser.rows if images > 1]
    assert not rows, (
        f"{example}: {len(rows)} cell(s) show their figures in a row, each at a fraction "
        f"of the width ({rows} figures): draw one figure per cell"
    )


# -- Links -----------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    """Collect the targets (href/src) and the anchors (id/name) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name") if tag != "meta" else ():
            if values.get(key):
                self.anchors.add(values[key])
        key = {"a": "href", "link": "href", "img": "src", "script": "src"}.get(tag)
        if key and values.get(key):
            self.targets.append(values[key])


_PAGES: dict[str, _Links | None] = {}


def _fetch(url: str) -> _Links | None:
    """Fetch one URL of the site; parse it if it is HTML; raise if it does not resolve."""
    if url not in _PAGES:
        with urllib.request.urlopen(url, timeout=10) as response:  # the site's own server
            body = response.read()
            is_html = response.headers.get_content_type() == "text/html"
        parsed = None
        if is_html:
            parsed = _Links()
            parsed.feed(body.decode("utf-8", errors="replace"))
        _PAGES[url] = parsed
    return _PAGES[url]


def broken_links(site_url: str, links: list[str]) -> list[str]:
    """Return the links into the site whose page or ``#anchor`` does not exist."""
    broken = []
    for link in links:
        url, _, fragment = link.partition("#")
        if not url.startswith(site_url):
            continue
        try:
            page = _fetch(url)
        except urllib.error.URLError as error:
            broken.append(f"{link}: {error}")
            continue
        if fragment and page is not None and urllib.parse.unquote(fragment) not in page.anchors:
            broken.append(f"{link}: no element with id {fragment!r}")
    return broken


def test_every_internal_link_resolves(site_url, site_dir):
    """Crawl the site from the pages above: every href and src on it, anchors included."""
    queue = [site_url + path for path in PAGES]
    crawled: set[str] = set()
    broken: dict[str, list[str]] = {}
    while queue:
        url = queue.pop()
        if url in crawled:
            continue
        crawled.add(url)
        page = _fetch(url)
        if page is None:
            continue
        links = []
        for target in page.targets:
            absolute = urllib.parse.urljoin(url, target)
            if urllib.parse.urlsplit(absolute).scheme not in ("http", "https"):
                continue  # mailto:, javascript:, data:
            links.append(absolute)
            base = absolute.partition("#")[0]
            if base.startswith(site_url) and re.search(r"(/|\.html)$", base):
                queue.append(base)
        bad = broken_links(site_url, links)
        if bad:
            broken[url] = bad
    assert len(crawled) > len(PAGES)
    assert not broken, broken
