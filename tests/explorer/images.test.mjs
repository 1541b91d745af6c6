// The input side: an upload made Fashion-MNIST-like, and the brush.
import assert from "node:assert/strict";
import { test } from "node:test";

import { colourPixels, fashionMnistPixels, ImagesError, paint, parseImages, stroke } from "../../cnnviz/explorer/static/images.js";

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
  paint(pixels, 0.5, 0.5, 1, [28, 28, 1], 0.2);
  assert.equal(pixels[0], 1);
  stroke(pixels, 2, 20.5, 26, 20.5, 1); // along the centres of row 20
  assert.ok(pixels[20 * 28 + 10] > 0.9);
});

// images.json goes with one weights.bin: its checksum, its number of images and classes.
test("images.json is used only with the weights it was written with, and only if whole", () => {
  const weights = { sha256: "ab".repeat(32), manifest: { images: 2, class_names: ["a", "b", "c"] } };
  const pixels = Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256);
  const good = { weights_sha256: weights.sha256, labels: [2, 0], shape: [28, 28], pixels: Buffer.from(pixels).toString("base64") };
  const parsed = parseImages(good, weights);
  assert.deepEqual(parsed.labels, [2, 0]);
  assert.deepEqual(Array.from(parsed.bytes), Array.from(pixels));
  const refused = [
    [[], /images\.json is not an object with labels and pixels/],
    [{ ...good, weights_sha256: "cd".repeat(32) }, /images\.json was written with other weights \(SHA-256 cdcd.*, and weights\.bin has abab.*\): export the page again/],
    [{ ...good, weights_sha256: undefined }, /written with other weights/],
    [{ ...good, labels: [2] }, /images\.json must hold 2 labels, as weights\.bin says; it holds 1/],
    [{ ...good, labels: "20" }, /must hold 2 labels, as weights\.bin says; it holds none/],
    [{ ...good, labels: [2, 3] }, /images\.json's label 1 must be a class from 0 to 2; it is 3/],
    [{ ...good, labels: [0.5, 1] }, /label 0 must be a class from 0 to 2; it is 0\.5/],
    [{ ...good, shape: [32, 32] }, /images\.json's images must be of shape \[28,28\], the models' input; its shape is \[32,32\]/],
    [{ ...good, shape: [28, 28, 1] }, /must be of shape \[28,28\], the models' input; its shape is \[28,28,1\]/],
    [{ ...good, pixels: "not base64!" }, /images\.json's pixels are not base64/],
    [{ ...good, pixels: 7 }, /pixels are not base64 \(a number, not a string\)/],
    [{ ...good, pixels: Buffer.from(pixels.subarray(1)).toString("base64") }, /images\.json must hold 1568 pixel bytes, 784 per image; it holds 1567/],
  ];
  for (const [samples, message] of refused) {
    assert.throws(() => parseImages(samples, weights), (error) => error instanceof ImagesError && message.test(error.message), JSON.stringify(samples).slice(0, 80));
  }
  // Colour models' images: three bytes a pixel, the shape saying so.
  const colour = { ...good, shape: [4, 5, 3], pixels: Buffer.from(pixels.subarray(0, 120)).toString("base64") };
  assert.equal(parseImages(colour, weights, [4, 5, 3]).bytes.length, 120);
  assert.throws(() => parseImages({ ...colour, shape: [4, 5] }, weights, [4, 5, 3]), /must be of shape \[4,5,3\]/);
});

test("a colour upload keeps its colours: the centred part of the models' shape, averaged by area", () => {
  // A 4x2 picture (width 4, height 2): left half red, right half blue; into 1x2 (h x w).
  const rgba = new Uint8ClampedArray(4 * 2 * 4);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 4; x++) rgba.set(x < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], 4 * (y * 4 + x));
  }
  assert.deepEqual(Array.from(colourPixels(rgba, 4, 2, 1, 2)), [1, 0, 0, 0, 0, 1]);
  // Into 2x2: the centred 2x2 part (columns 1-2) is one red and one blue column.
  assert.deepEqual(Array.from(colourPixels(rgba, 4, 2, 2, 2)), [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]);
  // Into 1x1: the centred 2x2 part, half red, half blue.
  assert.deepEqual(Array.from(colourPixels(rgba, 4, 2, 1, 1)), [0.5, 0, 0.5]);
});

test("the brush paints white in every channel of a colour input, and on a non-square one", () => {
  const pixels = new Float32Array(3 * 5 * 3);
  paint(pixels, 4.5, 1.5, 1, [3, 5, 3]); // the centre of pixel (1, 4), the last column
  assert.deepEqual(Array.from(pixels.subarray((1 * 5 + 4) * 3, (1 * 5 + 4) * 3 + 3)), [1, 1, 1]);
  assert.equal(pixels.reduce((a, b) => a + b, 0), 3);
  const gray = fashionMnistPixels(new Uint8ClampedArray(10 * 10 * 4).fill(255), 10, 10, 3, 5);
  assert.equal(gray.length, 15);
});
