// The page's view in its URL fragment, and the shift, against cases worked out by hand.
// Run: node --test tests/explorer/ (tests/test_explorer.py runs it under pytest).
import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_SHIFT, fromBase64Url, readView, shifted, toBase64Url, viewHash } from "../../cnnviz/explorer/static/state.js";
import { random } from "./files.mjs";

const range = (n) => Float32Array.from({ length: n }, (_, i) => i);
const values = (list) => Float32Array.from(list);

/** The shift written out plainly: each output pixel looks up where it came from. */
function reference(pixels, h, w, rows, cols) {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [fy, fx] = [y - rows, x - cols];
      if (fy >= 0 && fy < h && fx >= 0 && fx < w) out[y * w + x] = pixels[fy * w + fx];
    }
  }
  return out;
}

// -- shifted ------------------------------------------------------------------------------

test("shifted, 3x3: one row down or up, one column right or left, zeros come in at the edge", () => {
  // 1 2 3
  // 4 5 6
  // 7 8 9
  const p = range(10).subarray(1);
  assert.deepEqual(shifted(p, 3, 3, 1, 0), values([0, 0, 0, 1, 2, 3, 4, 5, 6]));
  assert.deepEqual(shifted(p, 3, 3, -1, 0), values([4, 5, 6, 7, 8, 9, 0, 0, 0]));
  assert.deepEqual(shifted(p, 3, 3, 0, 1), values([0, 1, 2, 0, 4, 5, 0, 7, 8]));
  assert.deepEqual(shifted(p, 3, 3, 0, -1), values([2, 3, 0, 5, 6, 0, 8, 9, 0]));
});

test("shifted, 3x3: both axes at once, with opposite signs", () => {
  const p = range(10).subarray(1);
  // Down 1, left 1: row 0 empty; rows 1, 2 are rows 0, 1 without their first column.
  assert.deepEqual(shifted(p, 3, 3, 1, -1), values([0, 0, 0, 2, 3, 0, 5, 6, 0]));
  // Up 2, right 2: only row 2's first pixel (7) is left, in row 0's last column.
  assert.deepEqual(shifted(p, 3, 3, -2, 2), values([0, 0, 7, 0, 0, 0, 0, 0, 0]));
  // Down 2, right 2: pixel 1 alone, in the bottom right corner.
  assert.deepEqual(shifted(p, 3, 3, 2, 2), values([0, 0, 0, 0, 0, 0, 0, 0, 1]));
});

test("shifted, 4 rows by 5 columns: the two axes are not mixed up", () => {
  //  0  1  2  3  4
  //  5  6  7  8  9
  // 10 11 12 13 14
  // 15 16 17 18 19
  const p = range(20);
  // Down 1, right 2: row y is row y-1 with two zeros in front.
  assert.deepEqual(shifted(p, 4, 5, 1, 2), values([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 0, 0, 10, 11, 12]));
  // Down 2, left 1: rows 0 and 1 moved to rows 2 and 3, without their first column.
  assert.deepEqual(shifted(p, 4, 5, 2, -1), values([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0]));
  // Up 3, left 4: only 19 (row 3, column 4) is left, at row 0, column 0.
  assert.deepEqual(shifted(p, 4, 5, -3, -4), values([19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  // Right 4 (more than the 3 rows could take): each row's first pixel, in its last column.
  assert.deepEqual(shifted(p, 4, 5, 0, 4), values([0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 15]));
  // Up 1, right 3: rows 1..3, each with three zeros in front of its first two pixels.
  assert.deepEqual(shifted(p, 4, 5, -1, 3), values([0, 0, 0, 5, 6, 0, 0, 0, 10, 11, 0, 0, 0, 15, 16, 0, 0, 0, 0, 0]));
});

test("shifted: no shift gives back the same array, and the input is never changed", () => {
  const p = range(20);
  assert.equal(shifted(p, 4, 5, 0, 0), p);
  const out = shifted(p, 4, 5, 1, -1);
  assert.notEqual(out, p);
  assert.deepEqual(p, range(20));
});

test("shifted by the whole height or width (or more), either way, gives zeros", () => {
  const p = range(20).map((v) => v + 1);
  const zeros = new Float32Array(20);
  for (const [rows, cols] of [[4, 0], [-4, 0], [0, 5], [0, -5], [4, 5], [-4, -5], [7, 0], [0, -9], [4, 1], [1, -5]]) {
    assert.deepEqual(shifted(p, 4, 5, rows, cols), zeros, `shift ${rows},${cols}`);
  }
});

test("shifted agrees with the plain reference for every shift up to 6 each way, on a random 28x28 image", () => {
  const next = random(20240611);
  const p = Float32Array.from({ length: 28 * 28 }, next);
  assert.equal(MAX_SHIFT, 6);
  for (let rows = -MAX_SHIFT; rows <= MAX_SHIFT; rows++) {
    for (let cols = -MAX_SHIFT; cols <= MAX_SHIFT; cols++) {
      assert.deepEqual(Float32Array.from(shifted(p, 28, 28, rows, cols)), reference(p, 28, 28, rows, cols), `shift ${rows},${cols}`);
    }
  }
});

// -- base64url ----------------------------------------------------------------------------

const BASE64URL = /^[A-Za-z0-9_-]*$/;

test("base64url: known values, the two characters that differ from base64, no padding", () => {
  assert.equal(toBase64Url(new Uint8Array(0)), "");
  // "Man" is the textbook example: TWFu; "Ma" -> TWE (TWE= without its padding).
  assert.equal(toBase64Url(new TextEncoder().encode("Man")), "TWFu");
  assert.equal(toBase64Url(new TextEncoder().encode("Ma")), "TWE");
  assert.equal(toBase64Url(new TextEncoder().encode("M")), "TQ");
  // fb ff: 111110 111111 1111(00) = 62, 63, 60: base64 "+/8=", base64url "-_8".
  assert.equal(toBase64Url(Uint8Array.of(0xfb, 0xff)), "-_8");
  assert.equal(toBase64Url(Uint8Array.of(0xff, 0xff, 0xff)), "____");
  assert.deepEqual(fromBase64Url("-_8"), Uint8Array.of(0xfb, 0xff));
  assert.deepEqual(fromBase64Url("TWFu"), new TextEncoder().encode("Man"));
  assert.deepEqual(fromBase64Url(""), new Uint8Array(0));
});

test("base64url round trip: every length from 0 to 10, and 784 bytes (a drawing)", () => {
  const next = random(7);
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 784]) {
    for (let trial = 0; trial < 20; trial++) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(256 * next()));
      const text = toBase64Url(bytes);
      assert.match(text, BASE64URL);
      assert.ok(!/[+/=]/.test(text), text);
      // 4 characters per 3 bytes, the last group cut short instead of padded.
      assert.equal(text.length, Math.ceil((4 * n) / 3));
      assert.deepEqual(fromBase64Url(text), bytes);
    }
  }
  // Every byte value, so that every character of the alphabet is used.
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(fromBase64Url(toBase64Url(all)), all);
});

test("fromBase64Url refuses text with any other character, padding included", () => {
  for (const text of ["ab+c", "ab/c", "TWE=", "TQ==", "ab c", "ab.c", "ab\nc", "abé", "%41", "ab*c"]) {
    assert.throws(() => fromBase64Url(text), undefined, JSON.stringify(text));
  }
  // One character past a group of four holds no whole byte.
  assert.throws(() => fromBase64Url("TWFuT"));
});

// -- the view in the URL: the models a page might have ------------------------------------

const maps = (name, output_shape) => ({ name, output_shape });
const ODD_KEY = "a,b & c=d #1 50% ü";
const ODD_LAYER = "conv, 1 & x=y #2 100% Ωμ→";
const MODELS = [
  { key: "valid", layers: [maps("conv1", [24, 24, 8]), maps("pool1", [12, 12, 8]), maps("flatten", [1152]), maps("dense", [10])] },
  { key: "same", layers: [maps("conv1", [28, 28, 4]), maps("dense", [10])] },
  { key: ODD_KEY, layers: [maps("input", [28, 28, 1]), maps(ODD_LAYER, [5, 6, 3]), maps("vector", [7])] },
  { key: "zoom=2&x", layers: [maps("c", [3, 3, 2])] },
];
const KEYS = MODELS.map((m) => m.key);
const CLASSES = 10;
const IMAGES = 100;

const view = (fields = {}) => ({ shown: new Set([0, 1]), look: 0, target: null, image: null, shift: [0, 0], unit: null, ...fields });
const read = (hash, keys = KEYS, models = MODELS, classCount = CLASSES, imageCount = IMAGES) => readView(hash, keys, models, classCount, imageCount);
/** A drawing whose pixels are whole bytes over 255, as a link carries them. */
const drawingOf = (seed) => {
  const next = random(seed);
  return Float32Array.from({ length: 28 * 28 }, () => Math.floor(256 * next()) / 255);
};

test("viewHash writes the fields in order, the models sorted, and leaves out what is not set", () => {
  const v = view({ shown: new Set([1, 0]), look: 1, target: 3, shift: [2, -1], unit: { model: 0, layer: 0, row: 1, col: 2, channel: 3 } });
  assert.equal(viewHash(v, KEYS, MODELS), "models=valid,same&look=same&class=3&shift=2,-1&unit=valid,conv1,1,2,3");
  // No class (the predicted one), no image and no drawing, no shift, no unit.
  assert.equal(viewHash(view(), KEYS, MODELS), "models=valid,same&look=valid");
  // Class 0 and image 0 are still written; a test image leaves the drawing out.
  assert.equal(viewHash(view({ target: 0, image: 0 }), KEYS, MODELS, drawingOf(1)), "models=valid,same&look=valid&class=0&image=0");
});

test("viewHash escapes keys and layer names so that no ',', '&', '=', '#', '%' or space is left raw", () => {
  const v = view({ shown: new Set([2, 3]), look: 3, unit: { model: 2, layer: 1, row: 4, col: 5, channel: 2 } });
  const hash = viewHash(v, KEYS, MODELS);
  // Three parts, each with one '=', and only the commas that separate values.
  const parts = hash.split("&");
  assert.deepEqual(parts.map((p) => p.split("=")[0]), ["models", "look", "unit"]);
  parts.forEach((p) => assert.equal(p.split("=").length, 2, p));
  assert.equal(parts[0].split(",").length, 2);
  assert.equal(parts[2].split(",").length, 5);
  assert.ok(!/[ #]/.test(hash), hash);
  assert.ok(!/%(?![0-9A-F]{2})/.test(hash), hash);
  assert.ok(/^[\x21-\x7e]*$/.test(hash), "only printable ASCII");
});

const roundTrips = [
  ["one model", view({ shown: new Set([1]), look: 1 }), null, ["same"]],
  ["the two default models, nothing else", view(), null],
  ["three models, looking at the last", view({ shown: new Set([0, 2, 3]), look: 3 }), null],
  ["all four models, in no particular order", view({ shown: new Set([3, 1, 0, 2]), look: 2 }), null],
  ["a target class", view({ target: 9 }), null],
  ["class 0 and image 0", view({ target: 0, image: 0 }), null],
  ["the last test image", view({ image: IMAGES - 1, look: 1 }), null],
  ["a drawing", view(), drawingOf(2)],
  ["a blank drawing", view(), new Float32Array(28 * 28)],
  ["a drawing, shifted", view({ shift: [-6, 6] }), drawingOf(3)],
  ["a shift of rows only", view({ shift: [3, 0] }), null],
  ["a shift of columns only", view({ shift: [0, -1] }), null],
  ["a unit in the corner of the first layer", view({ unit: { model: 0, layer: 0, row: 23, col: 23, channel: 7 } }), null],
  ["a unit in a pooling layer", view({ unit: { model: 0, layer: 1, row: 0, col: 11, channel: 0 } }), null],
  [
    "a unit in a layer whose name has commas, spaces, '&', '=', '#', '%' and non-ASCII, in a model with such a key",
    view({ shown: new Set([0, 2]), look: 2, target: 4, unit: { model: 2, layer: 1, row: 4, col: 5, channel: 2 } }),
    drawingOf(4),
  ],
  [
    "everything at once",
    view({ shown: new Set([1, 2, 3]), look: 3, target: 7, image: 12, shift: [1, -2], unit: { model: 3, layer: 0, row: 2, col: 0, channel: 1 } }),
    null,
  ],
];

for (const [name, v, drawing, keys] of roundTrips) {
  test(`view -> link -> view: ${name}`, () => {
    const k = keys ?? KEYS;
    const models = keys ? MODELS.filter((m) => keys.includes(m.key)) : MODELS;
    // The one-model page: its model is index 0.
    const want = keys ? { ...v, shown: new Set([0]), look: 0 } : v;
    const hash = viewHash(want, k, models, drawing);
    for (const fragment of [hash, `#${hash}`]) {
      const got = readView(fragment, k, models, CLASSES, IMAGES);
      assert.deepEqual(got, { view: want, drawing, problems: [] });
    }
  });
}

test("view -> link -> view: the drawing comes back as the very same float32 pixels", () => {
  const drawing = drawingOf(5);
  const { drawing: back } = read(viewHash(view({ shift: [1, 1] }), KEYS, MODELS, drawing));
  assert.ok(back instanceof Float32Array);
  assert.equal(back.length, 28 * 28);
  back.forEach((v, i) => assert.ok(Object.is(v, drawing[i]), `pixel ${i}: ${v} != ${drawing[i]}`));
});

// -- readView: no link ----------------------------------------------------------------------

test("readView with no fragment: the first two models, looking at the first, nothing else", () => {
  for (const hash of ["", "#", "&", "#&&"]) assert.deepEqual(read(hash), { view: view(), drawing: null, problems: [] });
});

test("readView with no fragment on a page of one model: that model alone", () => {
  const one = [MODELS[1]];
  const got = readView("", ["same"], one, CLASSES, 0);
  assert.deepEqual(got, { view: view({ shown: new Set([0]) }), drawing: null, problems: [] });
});

// -- readView: parts that do not fit the page ------------------------------------------------

// A good link; each case below replaces one of its parts (or adds one), and the rest
// of the view must be kept.
const GOOD = { models: "models=valid,same", look: "look=same", class: "class=3", shift: "shift=2,-1", unit: "unit=same,conv1,1,2,3" };
const GOOD_VIEW = view({ look: 1, target: 3, shift: [2, -1], unit: { model: 1, layer: 0, row: 1, col: 2, channel: 3 } });
const linkWith = (changes) => Object.values({ ...GOOD, ...changes }).filter(Boolean).join("&");

test("the good link itself reads with no problems", () => {
  assert.deepEqual(read(linkWith({})), { view: GOOD_VIEW, drawing: null, problems: [] });
});

const badParts = [
  // [what, changes to the good link, changes to the good view, the problem]
  ["an unknown model among the models", { models: "models=valid,nope,same" }, {}, /^models: no model "nope" \(the models: valid, same, /],
  ["an unknown model, the only other one", { models: "models=nope,same" }, { shown: new Set([1]) }, /^models: no model "nope"/],
  ["a look at an unknown model", { look: "look=nope" }, { look: 0 }, /^look: no model "nope"/],
  ["a malformed percent-escape as the look", { look: "look=%E0%A4%A" }, { look: 0 }, /^look: no model "%E0%A4%A"/],
  ["a malformed percent-escape among the models", { models: "models=same,%E0%A4%A" }, { shown: new Set([1]) }, /^models: no model "%E0%A4%A"/],
  ["class 10 of 10", { class: "class=10" }, { target: null }, /^class: expected a class from 0 to 9; got "10"$/],
  ["class -1", { class: "class=-1" }, { target: null }, /^class: expected a class from 0 to 9; got "-1"$/],
  ["class 2.5", { class: "class=2.5" }, { target: null }, /^class: expected a class from 0 to 9; got "2.5"$/],
  ["an empty class", { class: "class=" }, { target: null }, /^class: expected a class from 0 to 9; got ""$/],
  ["an image past the count", { image: "image=100" }, {}, /^image: expected an image from 0 to 99; got "100"$/],
  ["an image -1", { image: "image=-1" }, {}, /^image: expected an image from 0 to 99; got "-1"$/],
  ["an image that is not a number", { image: "image=seven" }, {}, /^image: expected an image from 0 to 99; got "seven"$/],
  ["a drawing one pixel short", { drawing: `drawing=${toBase64Url(new Uint8Array(783))}` }, {}, /^drawing: expected 784 pixel values \(28×28×1\) as base64url$/],
  ["a drawing one pixel long", { drawing: `drawing=${toBase64Url(new Uint8Array(785))}` }, {}, /^drawing: expected 784 pixel values \(28×28×1\) as base64url$/],
  ["a drawing in plain base64, with '+' and '/'", { drawing: `drawing=${"+/".repeat(523)}` }, {}, /^drawing: expected 784 pixel values \(28×28×1\) as base64url$/],
  ["a drawing with '=' padding", { drawing: `drawing=${toBase64Url(new Uint8Array(784))}==` }, {}, /^drawing: expected 784 pixel values \(28×28×1\) as base64url$/],
  ["a drawing with a '*' in it", { drawing: `drawing=*${toBase64Url(new Uint8Array(784)).slice(1)}` }, {}, /^drawing: expected 784 pixel values \(28×28×1\) as base64url$/],
  ["a shift of 7 rows", { shift: "shift=7,0" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "7,0"$/],
  ["a shift of -7 columns", { shift: "shift=0,-7" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "0,-7"$/],
  ["a shift of one number", { shift: "shift=1" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "1"$/],
  ["a shift of three numbers", { shift: "shift=1,2,3" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "1,2,3"$/],
  ["a shift of letters", { shift: "shift=a,b" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "a,b"$/],
  ["a shift of halves", { shift: "shift=0.5,1" }, { shift: [0, 0] }, /^shift: expected two whole numbers from -6 to 6; got "0.5,1"$/],
  ["a unit in an unknown model", { unit: "unit=nope,conv1,1,2,3" }, { unit: null }, /^unit: no model "nope"/],
  ["a unit in an unknown layer", { unit: "unit=valid,conv9,1,2,3" }, { unit: null }, /^unit: model valid has no layer named "conv9"$/],
  ["a unit in a layer of another model only", { unit: "unit=same,pool1,1,2,3" }, { unit: null }, /^unit: model same has no layer named "pool1"$/],
  ["a unit of a vector in row 1", { unit: "unit=valid,dense,1,0,0" }, { unit: null }, /^unit: expected row 0, column 0 and a unit inside dense's 10; got 1,0,0$/],
  ["a unit of a vector in column 1", { unit: "unit=valid,dense,0,1,0" }, { unit: null }, /^unit: expected row 0, column 0 and a unit inside dense's 10; got 0,1,0$/],
  ["a unit of a vector past its last", { unit: "unit=valid,dense,0,0,10" }, { unit: null }, /^unit: expected row 0, column 0 and a unit inside dense's 10; got 0,0,10$/],
  ["a unit of a vector with one number", { unit: "unit=valid,flatten,5" }, { unit: null }, /^unit: expected row 0, column 0 and a unit inside flatten's 1152; got 5$/],
  ["a unit's row past the edge", { unit: "unit=valid,conv1,24,0,0" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 24,0,0$/],
  ["a unit's column past the edge", { unit: "unit=valid,conv1,0,24,0" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 0,24,0$/],
  ["a unit's channel past the last", { unit: "unit=valid,conv1,0,0,8" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 0,0,8$/],
  ["a unit's row -1", { unit: "unit=valid,conv1,-1,0,0" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got -1,0,0$/],
  ["a unit's row 1.5", { unit: "unit=valid,conv1,1.5,0,0" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 1.5,0,0$/],
  ["a unit with too few numbers", { unit: "unit=valid,conv1,1,2" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 1,2$/],
  ["a unit with too many numbers", { unit: "unit=valid,conv1,1,2,3,4" }, { unit: null }, /^unit: expected a row, column and channel inside conv1's 24×24×8; got 1,2,3,4$/],
  ["a unit of a model's key alone", { unit: "unit=valid" }, { unit: null }, /^unit: model valid has no layer named ""$/],
  ["a part without '='", { junk: "junk" }, {}, /^"junk" is not a field=value pair$/],
  ["an unknown field", { zoom: "zoom=2" }, {}, /^"zoom" is not a part of this page's links$/],
  ["a field named as an escape of a known one", { models2: "mod%65ls=valid" }, {}, /^"mod%65ls" is not a part of this page's links$/],
];

for (const [what, changes, viewChanges, problem] of badParts) {
  test(`readView leaves out ${what}, says so, and keeps the rest`, () => {
    const got = read(linkWith(changes));
    assert.deepEqual(got.view, { ...GOOD_VIEW, ...viewChanges });
    assert.equal(got.drawing, null);
    assert.equal(got.problems.length, 1, got.problems.join("; "));
    assert.match(got.problems[0], problem);
  });
}

test("readView: when every model in models= is unknown, the default two stay, and each is named", () => {
  const got = read(linkWith({ models: "models=nope,gone" }));
  assert.deepEqual(got.view, GOOD_VIEW);
  assert.equal(got.problems.length, 2);
  assert.match(got.problems[0], /^models: no model "nope"/);
  assert.match(got.problems[1], /^models: no model "gone"/);
});

test("readView: a page with no test images refuses any image, even 0, and says why", () => {
  for (const image of ["0", "5"]) {
    const got = readView(linkWith({ image: `image=${image}` }), KEYS, MODELS, CLASSES, 0);
    assert.deepEqual(got.view, GOOD_VIEW);
    assert.deepEqual(got.problems, ["image: this page has no test images"]);
  }
});

test("readView: a bad image leaves a good drawing in place", () => {
  const drawing = drawingOf(6);
  const got = read(linkWith({ image: "image=100", drawing: `drawing=${toBase64Url(Uint8Array.from(drawing, (v) => Math.round(255 * v)))}` }));
  assert.deepEqual(got.view, GOOD_VIEW);
  assert.deepEqual(got.drawing, drawing);
  assert.equal(got.problems.length, 1);
  assert.match(got.problems[0], /^image: /);
});

test("readView: a drawing is read at the page's size", () => {
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => 17 * i);
  const hash = `drawing=${toBase64Url(bytes)}`;
  // 4x4: 0, 17/255, ..., 255/255.
  const small = readView(hash, KEYS, MODELS, CLASSES, IMAGES, [4, 4, 1]);
  assert.deepEqual(small.problems, []);
  assert.deepEqual(small.drawing, Float32Array.from(bytes, (b) => b / 255));
  // The same link at 28x28 is 768 pixels short.
  assert.deepEqual(read(hash).problems, ["drawing: expected 784 pixel values (28×28×1) as base64url"]);
  // A colour drawing: three values a pixel.
  assert.deepEqual(readView(hash, KEYS, MODELS, CLASSES, IMAGES, [2, 2, 3]).problems, ["drawing: expected 12 pixel values (2×2×3) as base64url"]);
});

test("readView: a unit of a vector (a dense or flatten layer) is row 0, column 0 and its index", () => {
  for (const [link, layer, channel] of [["unit=valid,dense,0,0,9", 3, 9], ["unit=valid,flatten,0,0,1151", 2, 1151], ["unit=same,dense,0,0,0", 1, 0]]) {
    const got = read(linkWith({ unit: link }));
    assert.deepEqual(got.problems, []);
    const model = link.startsWith("unit=same") ? 1 : 0;
    assert.deepEqual(got.view.unit, { model, layer, row: 0, col: 0, channel });
    assert.equal(viewHash(got.view, KEYS, MODELS).split("&").at(-1), link); // and back
  }
});

test("readView: a unit's layer name that is a malformed percent-escape is named as written", () => {
  const got = read(linkWith({ unit: "unit=valid,%E0%A4%A,1,2,3" }));
  assert.deepEqual(got.view, { ...GOOD_VIEW, unit: null });
  assert.deepEqual(got.problems, ['unit: model valid has no layer named "%E0%A4%A"']);
});

test("readView: a unit's layer name that is a malformed percent-escape is still left out", () => {
  const got = read(linkWith({ unit: "unit=valid,%E0%A4%A,1,2,3" }));
  assert.deepEqual(got.view, { ...GOOD_VIEW, unit: null });
  assert.equal(got.problems.length, 1);
  assert.match(got.problems[0], /^unit: model valid has no layer named /);
});

test("readView: several bad parts at once are each named, in the link's order", () => {
  const got = read("models=valid&class=99&shift=9,9&zoom=1&unit=valid,conv1,0,0,0");
  assert.deepEqual(got.view, view({ shown: new Set([0]), unit: { model: 0, layer: 0, row: 0, col: 0, channel: 0 } }));
  assert.equal(got.problems.length, 3);
  assert.match(got.problems[0], /^class: /);
  assert.match(got.problems[1], /^shift: /);
  assert.match(got.problems[2], /^"zoom" /);
});

// -- readView: the rules between fields ------------------------------------------------------

test("readView: a test image wins over a drawing, whichever comes first", () => {
  const drawing = `drawing=${toBase64Url(new Uint8Array(784).fill(255))}`;
  for (const hash of [`image=5&${drawing}`, `${drawing}&image=5`]) {
    assert.deepEqual(read(hash), { view: view({ image: 5 }), drawing: null, problems: [] });
  }
});

test("readView: a look at a model not shown falls back to the first shown", () => {
  // Model "same" (1) alone is shown; the look at "valid" (0) falls back to it.
  assert.deepEqual(read("models=same&look=valid"), { view: view({ shown: new Set([1]), look: 1 }), drawing: null, problems: [] });
  // The first shown as the link lists them: "zoom=2&x" (3), then "same" (1).
  assert.deepEqual(read(`models=${encodeURIComponent(KEYS[3])},same&look=valid`).view.look, 3);
  // No look at all, and model 0 not shown: the first shown.
  assert.deepEqual(read("models=same").view, view({ shown: new Set([1]), look: 1 }));
});

test("readView: a unit's model is added to the models shown", () => {
  const odd = encodeURIComponent(ODD_KEY);
  const got = read(`models=valid&unit=${odd},${encodeURIComponent(ODD_LAYER)},0,5,2`);
  assert.deepEqual(got, {
    view: view({ shown: new Set([0, 2]), unit: { model: 2, layer: 1, row: 0, col: 5, channel: 2 } }),
    drawing: null,
    problems: [],
  });
  // With no models= at all: the default two, and the unit's.
  assert.deepEqual(read("unit=zoom%3D2%26x,c,2,2,1").view.shown, new Set([0, 1, 3]));
});

test("readView: a field given twice counts once, the last one", () => {
  assert.deepEqual(read("class=1&class=2").view.target, 2);
  assert.deepEqual(read("shift=1,1&shift=-1,0").view.shift, [-1, 0]);
});

test("readView: a unit's model is shown before look falls back, so look may name it", () => {
  const models = [
    { key: "valid", layers: [{ name: "c", output_shape: [4, 4, 2] }] },
    { key: "same", layers: [{ name: "c", output_shape: [4, 4, 2] }] },
  ];
  const { view, problems } = readView("models=valid&look=same&unit=same,c,0,0,0", ["valid", "same"], models, 10, 0);
  assert.deepEqual([...view.shown].sort(), [0, 1]);
  assert.equal(view.look, 1);
  assert.deepEqual(problems, []);
});

test("shifted moves every channel of a colour image together", () => {
  // 2x2 pixels, 3 channels: pixel p holds (10p, 10p + 1, 10p + 2); one down, one right.
  const p = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
  assert.deepEqual(Array.from(shifted(p, 2, 2, 1, 1, 3)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual(Array.from(shifted(p, 2, 2, 0, -1, 3)), [10, 11, 12, 0, 0, 0, 30, 31, 32, 0, 0, 0]);
});
