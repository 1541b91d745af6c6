// The input side: an upload made Fashion-MNIST-like, and the brush.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fashionMnistPixels, paint, stroke } from "../../cnnviz/explorer/static/images.js";

function picture(width, height, background, shape) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = shape(x, y) ? 255 - background : background;
      rgba.set([v, v, v, 255], 4 * (y * width + x));
    }
  }
  return rgba;
}

test("a dark square on white becomes a bright square on black, its longest side 28 pixels", () => {
  // A 20x10 black bar in a 100x60 white picture: trimmed to 20x10, scaled to 28x14, centred.
  const rgba = picture(100, 60, 255, (x, y) => x >= 30 && x < 50 && y >= 20 && y < 30);
  const pixels = fashionMnistPixels(rgba, 100, 60);
  assert.equal(pixels.length, 784);
  const at = (r, c) => pixels[r * 28 + c];
  assert.equal(at(0, 0), 0); // dark background
  assert.equal(at(14, 0), 1); // the bar spans the whole width
  assert.equal(at(14, 27), 1);
  assert.equal(at(7, 14), 1); // rows 7..20 hold the bar: (28 - 14) / 2 = 7
  assert.equal(at(6, 14), 0);
  assert.equal(at(20, 14), 1);
  assert.equal(at(21, 14), 0);
});

test("a light object on a dark background is not negated", () => {
  const rgba = picture(28, 28, 0, (x, y) => x >= 4 && x < 24 && y >= 9 && y < 19);
  const pixels = fashionMnistPixels(rgba, 28, 28); // 20x10, scaled to 28x14
  assert.equal(pixels[0], 0);
  assert.equal(pixels[14 * 28 + 14], 1);
});

test("a blank picture stays blank", () => {
  assert.ok(fashionMnistPixels(picture(10, 10, 255, () => false), 10, 10).every((v) => v === 0));
});

test("the brush paints a soft disc and never darkens", () => {
  const pixels = new Float32Array(784);
  paint(pixels, 14.5, 14.5, 2); // the centre of pixel (14, 14)
  assert.equal(pixels[14 * 28 + 14], 1);
  assert.ok(Math.abs(pixels[14 * 28 + 15] - 0.5) < 1e-6); // 1 px away: radius 1 + 0.5 - 1
  assert.equal(pixels[0], 0);
  pixels[0] = 1;
  paint(pixels, 0.5, 0.5, 1, 28, 0.2);
  assert.equal(pixels[0], 1);
  stroke(pixels, 2, 20.5, 26, 20.5, 1); // along the centres of row 20
  assert.ok(pixels[20 * 28 + 10] > 0.9);
});
