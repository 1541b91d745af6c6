"""Time the explorer page in Debian's headless Chromium: forward, saliency, redraw, weight.

Run ``nox -s bench_explorer`` (or ``python benchmarks/explorer.py`` where
Playwright and cnnviz are installed). It exports the site explorer's six
cached gallery models with :func:`cnnviz.explorer.export` into a temporary
folder (``--site DIR`` times an already built site's ``explorer/`` instead),
serves it on 127.0.0.1 and prints, for issue 26's targets:

- the page weight: every byte the page loads before a model is added (the
  two it shows; target: under 750 kB), and with all six models loaded
  (target: 1.5 MB);
- the forward pass of one image through each model, ``run(key, pixels)``:
  the median over the first 100 test images, each timed on its own and, since
  Chromium coarsens ``performance.now()`` to 0.1 ms, also the mean of 100 calls
  timed together (targets: 0.5 ms ``valid``, 1 ms ``same``);
- the saliency of one image, ``saliency(key, pixels, class)``, timed the same
  way (target: 3 ms for LeNet-5), with its ratio to the forward pass and, for
  scale, Keras' :func:`cnnviz.gradients` of one image in this process;
- pointer move to redrawn page: for real pointer moves over the canvas (CDP
  input, as a mouse makes them), from the event's time stamp to the end of its
  handler, which runs and redraws both models and the saliency overlay, and
  to the start of the next frame, when the browser paints (target: under
  16 ms); and the redraw alone, without the input's delivery (Chromium
  delivers pointer moves aligned to animation frames, so that part waits for
  the next frame).

It prints numbers and asserts nothing: tests never assert times.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

# `what` is "run" (the forward pass) or "saliency" (its backward pass, forward included).
TIME = """([what, key, n]) => {
  const x = window.cnnvizExplorer;
  const images = window.__images;
  const call = what === "run" ? (i) => x.run(key, images[i]) : (i) => x.saliency(key, images[i], i % 10);
  for (let i = 0; i < 10; i++) call(i);  // warm up the JIT
  const each = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    call(i);
    each.push(performance.now() - t);
  }
  const t = performance.now();
  for (let i = 0; i < n; i++) call(i);
  return { each, mean: (performance.now() - t) / n };
}"""

# Listeners on window run after the canvas's own pointermove handler (bubbling).
LISTEN = """() => {
  window.__timings = [];
  window.addEventListener("pointermove", (event) => {
    const handled = performance.now() - event.timeStamp;
    requestAnimationFrame(() => {
      window.__timings.push([handled, performance.now() - event.timeStamp]);
    });
  });
}"""


# The redraw alone: setPixels runs both models and draws every layer, as a pointer move does.
REDRAW = """() => {
  const x = window.cnnvizExplorer;
  const pixels = x.pixels();
  const times = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    x.setPixels(pixels);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[50];
}"""


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def export_site(tmp: Path) -> Path:
    from explorer_page import export_explorer

    return export_explorer(tmp / "explorer")


def keras_gradient_ms(pixels, repeats: int = 30) -> float:
    """The median time of cnnviz.gradients on one image of the valid model, after a warm-up."""
    import time

    import cnnviz

    model = cnnviz.trained_lenet5("valid", verbose=0)[0]
    images = pixels.reshape(-1, 28, 28, 1)
    cnnviz.gradients(model, images[:1], target=0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        cnnviz.gradients(model, images[i : i + 1], target=i % 10)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (docs/_build/html) to time")
    parser.add_argument("--images", type=int, default=100, help="images per model (100)")
    parser.add_argument("--moves", type=int, default=200, help="pointer moves (200)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    import cnnviz

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.site / "explorer" if args.site else export_site(Path(tmp))
        server, url = serve(folder)
        _, (x_test, _) = cnnviz.load_fashion_mnist()
        pixels = cnnviz.scale_images(x_test[: args.images]).reshape(args.images, 784)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            loaded = []
            page.on("response", lambda r: loaded.append((r.url, len(r.body()))))
            page.goto(url + "index.html")
            page.wait_for_selector("body[data-state=ready]")
            page.wait_for_load_state("networkidle")
            weight = sum(size for _, size in loaded)
            keys = page.evaluate("window.cnnvizExplorer.models")
            print(f"Chromium {browser.version}; {len(loaded)} files; models {', '.join(keys)}")
            print(f"page weight as it opens (two models): {weight / 1000:.0f} kB (target < 750 kB)")
            for name, size in sorted(loaded, key=lambda item: -item[1])[:3]:
                print(f"  {name.rpartition('/')[2]}: {size / 1000:.1f} kB")
            for key in keys:
                page.evaluate("(key) => window.cnnvizExplorer.load(key)", key)
            page.wait_for_load_state("networkidle")
            weight = sum(size for _, size in loaded)
            print(f"page weight, all {len(keys)} models: {weight / 1000:.0f} kB (target 1500 kB)")

            page.evaluate(
                "rows => { window.__images = rows.map((r) => Float32Array.from(r)); }",
                pixels.tolist(),
            )
            forward = {}
            for key in keys:
                result = page.evaluate(TIME, ["run", key, args.images])
                forward[key] = result["mean"]
                print(
                    f"forward pass, {key}: median {statistics.median(result['each']):.2f} ms "
                    f"per image (max {max(result['each']):.2f}), mean of {args.images} calls "
                    f"together {result['mean']:.3f} ms (targets 0.5 ms valid, 1 ms same)"
                )
            for key in keys:
                result = page.evaluate(TIME, ["saliency", key, args.images])
                print(
                    f"saliency, {key}: median {statistics.median(result['each']):.2f} ms per "
                    f"image (max {max(result['each']):.2f}), mean of {args.images} calls together "
                    f"{result['mean']:.3f} ms, {result['mean'] / forward[key]:.1f} forward passes "
                    "(target 3 ms)"
                )
            print(
                f"  for scale: cnnviz.gradients (Keras) of one image, valid: median "
                f"{keras_gradient_ms(pixels):.1f} ms in this process"
            )

            page.select_option("#picker", index=1)
            page.evaluate(LISTEN)
            box = page.locator("#draw").bounding_box()
            page.mouse.move(box["x"] + 20, box["y"] + 20)
            page.mouse.down()
            for i in range(args.moves):
                t = i / args.moves
                page.mouse.move(
                    box["x"] + box["width"] * (0.2 + 0.6 * t),
                    box["y"] + box["height"] * (0.3 + 0.4 * ((i % 20) / 20)),
                )
            page.mouse.up()
            page.wait_for_timeout(200)
            redraw = page.evaluate(REDRAW)
            timings = page.evaluate("window.__timings")
            handled = statistics.median(t[0] for t in timings)
            framed = statistics.median(t[1] for t in timings)
            print(
                f"pointer move to redrawn page ({len(timings)} moves): median {handled:.2f} ms to "
                f"the end of the redraw (max {max(t[0] for t in timings):.2f}), {framed:.2f} ms "
                "to the next frame (target < 16 ms)"
            )
            print(
                f"  of which the redraw itself (both models run and drawn, the saliency computed "
                f"and overlaid, no input): median "
                f"{redraw:.2f} ms; the rest is Chromium delivering the move, aligned to frames"
            )
            # With a unit chosen, every redraw works it out again: same's fc1 unit 0 (784
            # products sorted) and its input box, through the flatten, to every cell.
            page.select_option("#unit-model", label="same")
            layer = page.evaluate(
                "[...document.querySelectorAll('#unit-layer option')]"
                ".find(o => o.textContent.startsWith('fc1 (')).value"
            )
            page.select_option("#unit-layer", value=layer)
            page.dispatch_event("#unit-channel", "change")
            print(
                "  the redraw with a unit chosen (same's fc1 unit 0, worked out each time): "
                f"median {page.evaluate(REDRAW):.2f} ms"
            )
            browser.close()
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
