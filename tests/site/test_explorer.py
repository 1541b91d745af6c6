"""The explorer page of the built site in Debian's headless Chromium, against Keras.

``explorer/index.html`` runs both gallery models in JavaScript. For the first
100 test images (the test set's order, not chosen by any result) every layer's
output must agree with :func:`cnnviz.layer_outputs` to 1e-4, max abs, and the
predicted class must be the same wherever Keras' two best classes are more than
2e-4 apart; a drawing made with pointer events must get
the prediction Keras gives for the same pixels, offline; a changed weights file
must be refused with a message on the page; and nothing may log a console
error or fail a request. Screenshots (desktop and a 390-pixel phone) go to
``$CNNVIZ_SCREENSHOT_DIR``.
"""

from __future__ import annotations

import base64
import importlib.util
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.site

PATH = "explorer/index.html"
IMAGES = 100
TOLERANCE = 1e-4

# The page visit of test_site.py (request blocking, console and failure logs),
# loaded from its file: tests are not a package, and one visit is kept in one place.
_spec = importlib.util.spec_from_file_location(
    "cnnviz_site_pages", Path(__file__).with_name("test_site.py")
)
pages = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = pages  # dataclasses look their module up there
_spec.loader.exec_module(pages)

# Runs images through the page's models; returns each layer's outputs for all
# images as base64 of little-endian float32 (JSON of 1.5 million numbers is slow).
RUN_IN_PAGE = """([key, encoded, n]) => {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const pixels = new Float32Array(bytes.buffer);
  const layers = {};
  for (let i = 0; i < n; i++) {
    const outputs = window.cnnvizExplorer.run(key, pixels.subarray(i * 784, (i + 1) * 784));
    for (const [name, values] of Object.entries(outputs)) (layers[name] ??= []).push(values);
  }
  const result = [];
  for (const [name, list] of Object.entries(layers)) {
    const all = new Float32Array(list.length * list[0].length);
    list.forEach((values, i) => all.set(values, i * values.length));
    const raw = new Uint8Array(all.buffer);
    let text = "";
    for (let i = 0; i < raw.length; i += 0x8000) {
      text += String.fromCharCode(...raw.subarray(i, i + 0x8000));
    }
    result.push([name, btoa(text)]);
  }
  return result;
}"""


@pytest.fixture(scope="module")
def explorer(browser, site_url, site_dir):
    """The explorer page, loaded and ready; what went wrong while it was used, checked last."""
    assert (site_dir / PATH).is_file(), f"{site_dir / PATH} is missing: run `nox -s docs`"
    page, seen, context = pages.visit(
        browser, site_url, PATH, pages.SCREENS / "explorer-desktop.png"
    )
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    yield page, seen, context
    context.close()


@pytest.fixture(scope="module")
def models():
    import cnnviz

    # The seed's two: the page does not run reflect and circular's Padding2D yet (issue 26).
    return {padding: cnnviz.trained_lenet5(padding, verbose=0)[0] for padding in ("valid", "same")}


@pytest.fixture(scope="module")
def test_pixels() -> np.ndarray:
    import cnnviz

    _, (x_test, _) = cnnviz.load_fashion_mnist()
    return cnnviz.scale_images(x_test[:IMAGES])  # float32 (N, 28, 28, 1), as the page takes them


def test_the_page_offers_both_models(explorer):
    page, _, _ = explorer
    assert page.evaluate("window.cnnvizExplorer.models") == ["valid", "same"]
    assert page.locator("#models .model").count() == 2


@pytest.mark.parametrize("key", ["valid", "same"])
def test_every_layer_agrees_with_keras_on_100_test_images(explorer, models, test_pixels, key):
    import cnnviz

    page, _, _ = explorer
    encoded = base64.b64encode(test_pixels.astype("<f4").tobytes()).decode("ascii")
    result = page.evaluate(RUN_IN_PAGE, [key, encoded, IMAGES])
    expected = cnnviz.layer_outputs(models[key], test_pixels)
    assert [name for name, _ in result] == list(expected)
    worst = {}
    for name, data in result:
        got = np.frombuffer(base64.b64decode(data), "<f4").reshape(expected[name].shape)
        worst[name] = float(np.abs(got - expected[name]).max())
        if name == "op":
            # The page's class is Keras' class wherever Keras' two best classes are more than
            # twice the tolerance apart; nearer than that, the two arithmetics (and two CPUs)
            # may round either way, and the tolerance below is all that can be asked.
            top = np.sort(expected[name], axis=1)
            clear = top[:, -1] - top[:, -2] > 2 * TOLERANCE
            np.testing.assert_array_equal(got.argmax(1)[clear], expected[name].argmax(1)[clear])
    print(f"{key}: max abs difference per layer {worst}")
    assert max(worst.values()) <= TOLERANCE, worst


def test_a_drawing_gets_the_prediction_keras_gives_offline(explorer, models):
    page, _, context = explorer
    page.get_by_role("button", name="Clear").click()
    context.set_offline(True)  # once loaded, the page needs no network
    try:
        box = page.locator("#draw").bounding_box()

        def at(x: float, y: float) -> tuple[float, float]:  # pixel units -> page coordinates
            return box["x"] + box["width"] * x / 28, box["y"] + box["height"] * y / 28

        # A pair of trousers: a waistband and two legs, in pointer moves.
        for stroke in [[(8, 5), (20, 5)], [(9, 5), (8, 24)], [(19, 5), (20, 24)]]:
            page.mouse.move(*at(*stroke[0]))
            page.mouse.down()
            for step in range(1, 11):
                t = step / 10
                page.mouse.move(
                    *at(
                        stroke[0][0] + t * (stroke[1][0] - stroke[0][0]),
                        stroke[0][1] + t * (stroke[1][1] - stroke[0][1]),
                    )
                )
            page.mouse.up()
        pixels = np.asarray(page.evaluate("Array.from(window.cnnvizExplorer.pixels())"))
        shown = page.eval_on_selector_all(".prediction", "ps => ps.map(p => +p.dataset.class)")
    finally:
        context.set_offline(False)
    assert (pixels > 0.5).sum() > 40, "the strokes did not draw"
    image = pixels.reshape(1, 28, 28, 1).astype(np.float32)
    expected = [int(model(image).numpy().argmax()) for model in models.values()]
    assert shown == expected


def test_a_clicked_unit_shows_its_arithmetic(explorer):
    page, _, _ = explorer
    page.select_option("#picker", index=1)
    page.locator("#models .model").first.locator(".layer-Conv2D canvas.tile").first.click()
    text = page.locator("#unit-details").inner_text()
    assert "window \u00d7 kernel" in text  # the multiplication sign
    assert "+ bias" in text
    page.locator("#models .model").first.locator(".layer-MaxPooling2D canvas.tile").first.click()
    assert "largest of the window" in page.locator("#unit-details").inner_text()
    assert page.locator("#box").is_visible()


def test_the_maps_open_on_one_scale_per_layer(explorer):
    """As the gallery draws them: a layer's tiles comparable; per map only when asked."""
    page, _, _ = explorer
    scale = page.locator("#models .model").first.locator(".layer-Conv2D p.scale").first
    assert page.locator('input[name="scale"]:checked').get_attribute("value") == "layer"
    assert "one scale for the layer" in scale.inner_text()
    page.check('input[name="scale"][value="map"]')
    try:
        assert "each map to its own" in scale.inner_text()
    finally:
        page.check('input[name="scale"][value="layer"]')  # the page as the other tests found it
    assert "one scale for the layer" in scale.inner_text()


def grey_png(pixels: np.ndarray) -> bytes:
    """A grayscale 8-bit PNG of `pixels` (H, W) uint8, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height, width = pixels.shape
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_an_upload_is_made_fashion_mnist_like(explorer):
    """A dark bar on white, 100x60: trimmed, scaled to 28 wide, centred, negated."""
    page, _, _ = explorer
    picture = np.full((60, 100), 255, np.uint8)
    picture[20:30, 30:50] = 0
    page.set_input_files(
        "#upload", files=[{"name": "bar.png", "mimeType": "image/png", "buffer": grey_png(picture)}]
    )
    page.wait_for_function("document.getElementById('upload-note').textContent.includes('bar.png')")
    pixels = np.asarray(page.evaluate("Array.from(window.cnnvizExplorer.pixels())")).reshape(28, 28)
    assert pixels[0, 0] == 0, "the background must be dark"
    assert pixels[7:21, :].min() == 1, "the bar must fill rows 7 to 20, every column"
    assert pixels[:7].max() == 0
    assert pixels[21:].max() == 0


def test_the_phone_layout_fits_390_pixels_and_draws_by_touch(browser, site_url, site_dir, explorer):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(site_url + PATH)
        page.wait_for_selector("body[data-state=ready]")
        page.select_option("#picker", index=4)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(pages.SCREENS / "explorer-phone.png"), full_page=True)

        # A finger stroke, as the phone's touch screen sends it (CDP touch input).
        page.get_by_role("button", name="Clear").click()
        box = page.locator("#draw").bounding_box()
        cdp = context.new_cdp_session(page)
        y = box["y"] + box["height"] / 2
        for kind, x in [("touchStart", 0.2), *(("touchMove", t / 10) for t in range(3, 9))]:
            point = {"x": box["x"] + box["width"] * x, "y": y}
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        pixels = np.asarray(page.evaluate("Array.from(window.cnnvizExplorer.pixels())"))
    finally:
        context.close()
    assert width <= 390, f"the page is {width} pixels wide on a 390-pixel phone"
    assert (pixels.reshape(28, 28)[13:15, 6:22] > 0.5).all(), "the finger stroke did not draw"


def test_a_changed_weights_file_is_refused(browser, site_url, site_dir):
    original = (site_dir / "explorer" / "weights.bin").read_bytes()
    changed = bytearray(original)
    changed[-1] ^= 0x40  # one bit of the last weight
    context = browser.new_context()
    page = context.new_page()
    try:
        page.route(
            "**/explorer/weights.bin",
            lambda route: route.fulfill(
                body=bytes(changed), content_type="application/octet-stream"
            ),
        )
        page.goto(site_url + PATH)
        page.wait_for_selector("body[data-state=refused]", timeout=30_000)
        message = page.locator("#status").inner_text()
        tiles = page.locator("canvas.tile").count()
    finally:
        context.close()
    assert "damaged or was changed" in message
    assert tiles == 0, "the page drew layers from weights it refused"


def test_no_console_error_and_no_failed_request(explorer):
    """Checked after every test above has used the page."""
    _, seen, _ = explorer
    pages.assert_clean(PATH, seen)
