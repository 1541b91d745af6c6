// The layers of graph models and the backward pass behind saliency: the new forward
// functions on small cases worked out by hand, the gradients of pooling, padding and
// cropping by hand, every layer type's layerBackward against central differences,
// inputGradient and saliency on a small graph model, and receptive boxes through merges.
// Run: node --test tests/explorer/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ACTIVATIONS,
  channelAffine,
  concatenate,
  concatSource,
  crop2d,
  crop2dBackward,
  depthwiseConv2d,
  erf,
  forward,
  globalPool,
  globalPoolBackward,
  inputGradient,
  layerBackward,
  pad2d,
  pad2dBackward,
  pool2dBackward,
  receptiveBox,
  runLayer,
  saliency,
} from "../../cnnviz/explorer/static/layers.js";
import { LAYER_TYPES } from "../../cnnviz/explorer/static/weights.js";
import { random } from "./files.mjs";

const range = (n) => Float32Array.from({ length: n }, (_, i) => i);
const close = (got, want, tolerance = 1e-6) => {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tolerance, `index ${i}: ${got[i]} != ${w}`));
};
const size = (shape) => shape.reduce((a, b) => a * b, 1);

const uniform = (next, n, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());

/** n values in [lo, hi], none within `margin` of a kink (where the derivative jumps). */
function away(next, n, kinks, lo, hi, margin = 0.1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v;
    do v = lo + (hi - lo) * next();
    while (kinks.some((k) => Math.abs(v - k) < margin));
    out[i] = v;
  }
  return out;
}

/** n distinct values 0.1 apart, shuffled: no near-ties for a max to jump between. */
function spread(next, n) {
  const out = Float32Array.from({ length: n }, (_, i) => 0.1 * i - 0.05 * n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A layer in the manifest's form: type, settings, arrays [{name, shape}]. */
const layerOf = (type, settings = {}, arrays = []) => ({
  name: type.toLowerCase(),
  type,
  ...settings,
  arrays: arrays.map(([name, shape]) => ({ name, shape })),
});

// -- forward, by hand -------------------------------------------------------------------

test("depthwiseConv2d: two channels, multiplier 2, each channel with its own kernels", () => {
  // 2x2 image; channel 0 is 1,2,3,4 and channel 1 is 10,20,30,40 (interleaved).
  // Outputs o = channel * 2 + m, kernel (kh, kw, in, multiplier): per tap [k00, k01, k10, k11].
  //   k00 = ones:            1+2+3+4           = 10
  //   k01 = 1 at (0,0), -1 at (1,1): 1-4         = -3
  //   k10 = 1 at (0,1):      20, plus bias 1     = 21
  //   k11 = 0.5 everywhere:  0.5*(10+20+30+40) = 50
  const input = Float32Array.of(1, 10, 2, 20, 3, 30, 4, 40);
  const kernel = Float32Array.of(1, 1, 0, 0.5, /* (0,1) */ 1, 0, 1, 0.5, /* (1,0) */ 1, 0, 0, 0.5, /* (1,1) */ 1, -1, 0, 0.5);
  const r = depthwiseConv2d(input, [2, 2, 2], kernel, [2, 2, 2, 2], Float32Array.of(0, 0, 1, 0), [1, 1], "valid");
  assert.deepEqual(r.shape, [1, 1, 4]);
  close(r.output, [10, -3, 21, 50]);
});

test("globalPool: the largest and the mean of each channel", () => {
  // Channel 0: 1, 5, -2, 3 -> max 5, mean 7/4. Channel 1: -1, -4, -3, -2 -> max -1, mean -10/4.
  const input = Float32Array.of(1, -1, 5, -4, -2, -3, 3, -2);
  close(globalPool("max", input, [2, 2, 2]), [5, -1]);
  close(globalPool("average", input, [2, 2, 2]), [1.75, -2.5]);
});

// The 3x3 image   1 2 3
//                 4 5 6
//                 7 8 9   for the padding cases.
const NINE = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);

test("pad2d zero: zeros above and to the right", () => {
  const r = pad2d(NINE, [3, 3, 1], [[1, 0], [0, 1]], "zero");
  assert.deepEqual(r.shape, [4, 4, 1]);
  close(r.output, [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0]);
});

test("pad2d reflect mirrors without repeating the edge (NumPy's mode='reflect')", () => {
  // One all round: rows r1 r0 r1 r2 r1, each row [a, b, c] -> [b, a, b, c, b].
  const one = pad2d(NINE, [3, 3, 1], [[1, 1], [1, 1]], "reflect");
  assert.deepEqual(one.shape, [5, 5, 1]);
  close(one.output, [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8, 5, 4, 5, 6, 5]);
  // Two, the most a 3-wide axis allows: rows r2 r1 r0 r1 r2 above; columns [a b c b a].
  const two = pad2d(NINE, [3, 3, 1], [[2, 0], [0, 2]], "reflect");
  assert.deepEqual(two.shape, [5, 5, 1]);
  close(two.output, [7, 8, 9, 8, 7, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 7, 8, 9, 8, 7]);
});

test("pad2d circular wraps round, a whole axis at most", () => {
  // One all round: rows r2 r0 r1 r2 r0, each row [a, b, c] -> [c, a, b, c, a].
  const one = pad2d(NINE, [3, 3, 1], [[1, 1], [1, 1]], "circular");
  close(one.output, [9, 7, 8, 9, 7, 3, 1, 2, 3, 1, 6, 4, 5, 6, 4, 9, 7, 8, 9, 7, 3, 1, 2, 3, 1]);
  // Three rows above a 3-row image: the image twice.
  const three = pad2d(NINE, [3, 3, 1], [[3, 0], [0, 0]], "circular");
  assert.deepEqual(three.shape, [6, 3, 1]);
  close(three.output, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("crop2d removes rows and columns from each edge", () => {
  // 4x4 image 0..15; crop 1 row on top, 1 column left and 2 right: column 1 of rows 1-3.
  const r = crop2d(range(16), [4, 4, 1], [[1, 0], [1, 2]]);
  assert.deepEqual(r.shape, [3, 1, 1]);
  close(r.output, [5, 9, 13]);
});

test("channelAffine: x * scale + offset, per channel", () => {
  // Two pixels of two channels: [1, 2], [3, 4]; scale [2, -1], offset [0.5, 1].
  // 1*2+0.5 = 2.5, 2*-1+1 = -1, 3*2+0.5 = 6.5, 4*-1+1 = -3.
  close(channelAffine(Float32Array.of(1, 2, 3, 4), Float32Array.of(2, -1), Float32Array.of(0.5, 1)), [2.5, -1, 6.5, -3]);
});

test("concatenate joins along the last axis, pixel by pixel", () => {
  // a: 2x1 pixels of 2 channels [1,2], [3,4]; b: the same pixels, 1 channel [10], [20].
  const r = concatenate([Float32Array.of(1, 2, 3, 4), Float32Array.of(10, 20)], [[2, 1, 2], [2, 1, 1]]);
  assert.deepEqual(r.shape, [2, 1, 3]);
  close(r.output, [1, 2, 10, 3, 4, 20]);
});

test("concatSource names the input and its channel behind each joined channel", () => {
  // Inputs of 2, 1 and 3 channels: joined channels 0-1, 2, 3-5.
  const shapes = [[4, 4, 2], [4, 4, 1], [4, 4, 3]];
  const found = [0, 1, 2, 3, 4, 5].map((c) => concatSource(shapes, c));
  assert.deepEqual(found, [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]]);
  assert.deepEqual(concatSource([[7], [5]], 9), [1, 2]); // vectors: the last axis alike
  assert.throws(() => concatSource(shapes, 6), RangeError);
  assert.throws(() => concatSource(shapes, -1), RangeError);
});

test("runLayer Add sums its inputs", () => {
  const xs = [Float32Array.of(1, 2), Float32Array.of(10, 20), Float32Array.of(100, 200)];
  const r = runLayer(layerOf("Add"), xs, [[2], [2], [2]], {});
  assert.deepEqual(r.shape, [2]);
  close(r.output, [111, 222]);
  // The first input is left alone.
  close(xs[0], [1, 2]);
});

test("runLayer SeparableConv2D: depthwise, then a 1x1 pointwise with bias, then the activation", () => {
  // 2x2 image 1,2,3,4. Depthwise 2x2, multiplier 2: ones -> 10; 1 at (0,0) only -> 1.
  // Pointwise (1,1,2,3) [[1, 0, 2], [0, 1, -1]]: 10, 1, 2*10-1 = 19; bias [0.5, -2, -9]:
  // 10.5, -1, 10; relu: 10.5, 0, 10.
  const layer = layerOf("SeparableConv2D", { kernel_size: [2, 2], strides: [1, 1], padding: "valid", activation: "relu" }, [
    ["depthwise_kernel", [2, 2, 1, 2]],
    ["pointwise_kernel", [1, 1, 2, 3]],
    ["bias", [3]],
  ]);
  const arrays = {
    depthwise_kernel: Float32Array.of(1, 1, 1, 0, 1, 0, 1, 0),
    pointwise_kernel: Float32Array.of(1, 0, 2, 0, 1, -1),
    bias: Float32Array.of(0.5, -2, -9),
  };
  const r = runLayer(layer, [Float32Array.of(1, 2, 3, 4)], [[2, 2, 1]], arrays);
  assert.deepEqual(r.shape, [1, 1, 3]);
  close(r.pre, [10.5, -1, 10]);
  close(r.output, [10.5, 0, 10]);
});

test("runLayer ELU: alpha * (exp(x) - 1) below zero, x above", () => {
  // alpha 0.5: -1 -> 0.5 * (e^-1 - 1) = -0.3160603; 0 -> 0; 2 -> 2.
  const r = runLayer(layerOf("ELU", { alpha: 0.5 }), [Float32Array.of(-1, 0, 2)], [[3]], {});
  close(r.output, [-0.3160603, 0, 2]);
});

test("runLayer LeakyReLU: negative_slope * x below zero", () => {
  const r = runLayer(layerOf("LeakyReLU", { negative_slope: 0.3 }), [Float32Array.of(-1, 0, 2)], [[3]], {});
  close(r.output, [-0.3, 0, 2]);
});

test("erf agrees with known values to 2e-7", () => {
  const known = [
    [0, 0],
    [0.5, 0.5204998778],
    [1, 0.8427007929],
    [-2, -0.995322265],
    [3, 0.9999779095],
  ];
  for (const [x, want] of known) assert.ok(Math.abs(erf(x) - want) <= 2e-7, `erf(${x}) = ${erf(x)}, not ${want}`);
});

// -- backward, by hand ------------------------------------------------------------------

test("max pool backward: a window's clear winner takes its whole gradient", () => {
  // 4x4 image, pool 2 stride 2. Windows' winners: 7 (at 1), 9 (at 6), 8 (at 12), 6 (at 11).
  const input = Float32Array.of(1, 7, 2, 9, 3, 0, 4, 1, 5, 1, 0, 6, 8, 2, 3, 5);
  const g = pool2dBackward("max", input, [4, 4, 1], Float32Array.of(10, 20, 30, 40), [2, 2], [2, 2], "valid");
  close(g, [0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 40, 30, 0, 0, 0]);
});

test("average pool backward: shared equally, 'same' padding dividing by the cells inside", () => {
  // 3x3 image, pool 2 stride 2 same: windows {0,1,3,4} (4 cells), {2,5} (2), {6,7} (2), {8} (1).
  // Gradients 4, 2, 6, 1: 4/4 = 1 each, 2/2 = 1 each, 6/2 = 3 each, 1/1 = 1.
  const g = pool2dBackward("average", range(9), [3, 3, 1], Float32Array.of(4, 2, 6, 1), [2, 2], [2, 2], "same");
  close(g, [1, 1, 1, 1, 1, 1, 3, 3, 1]);
});

test("global max pool backward: the gradient split among the ties for largest", () => {
  // Channel 0: 3, 1, 3, 2, two ties for 3: 6 / 2 = 3 each. Channel 1: one winner, 5, at 2.
  const input = Float32Array.of(3, 0, 1, 0, 3, 5, 2, 1);
  const g = globalPoolBackward("max", input, [2, 2, 2], Float32Array.of(3, 5), Float32Array.of(6, 4));
  close(g, [3, 0, 0, 0, 3, 4, 0, 0]);
  // Average: each of the 4 cells a quarter.
  close(globalPoolBackward("average", input, [2, 2, 2], null, Float32Array.of(6, 4)), [1.5, 1, 1.5, 1, 1.5, 1, 1.5, 1]);
});

test("reflect padding backward: mirrored cells add their gradient into their source", () => {
  // A 1x3 row x0 x1 x2, two columns reflected on the left: x2 x1 | x0 x1 x2.
  // Gradients 1, 10, 100, 1000, 10000: x0 100; x1 10 + 1000; x2 1 + 10000.
  const g = pad2dBackward(Float32Array.of(1, 10, 100, 1000, 10000), [1, 3, 1], [[0, 0], [2, 0]], "reflect");
  close(g, [100, 1010, 10001]);
  // Zero padding drops the padded cells' gradient: the last three only.
  close(pad2dBackward(Float32Array.of(1, 10, 100, 1000, 10000), [1, 3, 1], [[0, 0], [2, 0]], "zero"), [100, 1000, 10000]);
});

test("crop backward: the gradient in place, zeros on the cropped edges", () => {
  // 3x3 cropped by the top row and the right column: a 2x2 output.
  const g = crop2dBackward(Float32Array.of(1, 2, 3, 4), [3, 3, 1], [[1, 0], [0, 1]], [2, 2, 1]);
  close(g, [0, 0, 0, 1, 2, 0, 3, 4, 0]);
});

// -- every layer type's backward against central differences ---------------------------

/** The sum of a[i] * b[i], in float64. */
function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Check layerBackward on random directions: the derivative of sum(w * output) along them,
 * by central differences of runLayer, against the gradient's dot product with them.
 * `activation` false checks the gradient of `pre` (below the layer's activation).
 */
function checkGradient(layer, shapes, arrays, next, { inputs, activation = true, step = 1e-2 } = {}) {
  const xs = inputs ?? shapes.map((s) => uniform(next, size(s)));
  const run = runLayer(layer, xs, shapes, arrays);
  const target = (r) => (activation ? r.output : r.pre);
  const w = uniform(next, target(run).length);
  const back = layerBackward(layer, xs, shapes, arrays, run, w, activation);
  assert.equal(back.length, xs.length, "one gradient per input");
  back.forEach((g, k) => assert.equal(g.length, xs[k].length, `gradient ${k}'s length`));
  const loss = (t, dirs) => {
    const moved = xs.map((x, k) => Float32Array.from(x, (v, j) => v + t * dirs[k][j]));
    return dot(w, target(runLayer(layer, moved, shapes, arrays)));
  };
  for (let trial = 0; trial < 3; trial++) {
    const dirs = xs.map((x) => uniform(next, x.length));
    const numeric = (loss(step, dirs) - loss(-step, dirs)) / (2 * step);
    let analytic = 0;
    let scale = 0; // the same sum without cancellation: the size of the terms
    back.forEach((g, k) => {
      for (let j = 0; j < g.length; j++) {
        analytic += dirs[k][j] * g[j];
        scale += Math.abs(dirs[k][j] * g[j]);
      }
    });
    assert.ok(
      Math.abs(numeric - analytic) <= 1e-3 * scale + 1e-5,
      `${layer.type}: central difference ${numeric}, gradient ${analytic} (terms' size ${scale})`,
    );
  }
}

const conv = (type, settings, arrays) => layerOf(type, settings, arrays);
const KINKS = [0, -3, 3, 6]; // where relu, relu6, hard_sigmoid, hard_silu, elu... bend

// [what, layer, input shapes, options]: options.inputs(next) makes inputs away from kinks or ties.
const CASES = [
  ["Conv2D, strides 2, same padding, tanh", conv("Conv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "same", activation: "tanh" }, [["kernel", [3, 3, 2, 3]], ["bias", [3]]]), [[5, 5, 2]]],
  ["Conv2D below its activation", conv("Conv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "same", activation: "tanh" }, [["kernel", [3, 3, 2, 3]], ["bias", [3]]]), [[5, 5, 2]], { activation: false }],
  ["DepthwiseConv2D, multiplier 2, strides [1, 2], same", conv("DepthwiseConv2D", { kernel_size: [3, 3], strides: [1, 2], padding: "same", activation: "linear" }, [["kernel", [3, 3, 2, 2]], ["bias", [4]]]), [[5, 4, 2]]],
  ["SeparableConv2D, strides 2, valid, sigmoid", conv("SeparableConv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "valid", activation: "sigmoid" }, [["depthwise_kernel", [3, 3, 2, 2]], ["pointwise_kernel", [1, 1, 4, 3]], ["bias", [3]]]), [[5, 5, 2]]],
  ["SeparableConv2D below its activation", conv("SeparableConv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "valid", activation: "sigmoid" }, [["depthwise_kernel", [3, 3, 2, 2]], ["pointwise_kernel", [1, 1, 4, 3]], ["bias", [3]]]), [[5, 5, 2]], { activation: false }],
  ["Dense, softmax", layerOf("Dense", { activation: "softmax" }, [["kernel", [5, 3]], ["bias", [3]]]), [[5]]],
  ["Dense over the last axis of an image, gelu", layerOf("Dense", { activation: "gelu" }, [["kernel", [3, 4]]]), [[2, 2, 3]]],
  ["MaxPooling2D, 3x3 windows, stride 2, same", layerOf("MaxPooling2D", { pool_size: [3, 3], strides: [2, 2], padding: "same" }), [[5, 5, 2]], { inputs: (next) => [spread(next, 50)] }],
  ["AveragePooling2D, 3x3 windows, stride 2, same", layerOf("AveragePooling2D", { pool_size: [3, 3], strides: [2, 2], padding: "same" }), [[5, 5, 2]]],
  ["GlobalMaxPooling2D", layerOf("GlobalMaxPooling2D", { keepdims: false }), [[3, 4, 2]], { inputs: (next) => [spread(next, 24)] }],
  ["GlobalAveragePooling2D, keepdims", layerOf("GlobalAveragePooling2D", { keepdims: true }), [[3, 4, 2]]],
  ["BatchNormalization, a scale and offset per channel", layerOf("BatchNormalization", {}, [["scale", [3]], ["offset", [3]]]), [[3, 3, 3]]],
  ["Rescaling, one scale for every channel", layerOf("Rescaling", {}, [["scale", [1]], ["offset", [1]]]), [[3, 3, 3]]],
  ["ZeroPadding2D", layerOf("ZeroPadding2D", { padding: [[1, 2], [0, 1]] }), [[3, 4, 2]]],
  ["Padding2D reflect, the widest borders", layerOf("Padding2D", { padding: [[2, 1], [1, 3]], mode: "reflect" }), [[3, 4, 2]]],
  ["Padding2D circular, whole axes", layerOf("Padding2D", { padding: [[3, 1], [4, 2]], mode: "circular" }), [[3, 4, 2]]],
  ["Cropping2D", layerOf("Cropping2D", { cropping: [[1, 0], [1, 2]] }), [[4, 5, 2]]],
  ["Dropout", layerOf("Dropout"), [[2, 3, 2]]],
  ["SpatialDropout2D", layerOf("SpatialDropout2D"), [[2, 3, 2]]],
  ["Flatten", layerOf("Flatten"), [[2, 3, 2]]],
  ...Object.keys(ACTIVATIONS).map((name) => [
    `Activation ${name}`,
    layerOf("Activation", { activation: name }),
    [[2, 3, 4]],
    { inputs: (next) => [away(next, 24, KINKS, -6, 7)] },
  ]),
  ["ReLU, defaults", layerOf("ReLU", { negative_slope: 0, max_value: null, threshold: 0 }), [[4, 4, 2]], { inputs: (next) => [away(next, 32, [0], -4, 4)] }],
  ["ReLU, negative_slope, max_value and threshold", layerOf("ReLU", { negative_slope: 0.1, max_value: 2.5, threshold: 0.5 }), [[4, 4, 2]], { inputs: (next) => [away(next, 32, [0.5, 2.5], -4, 4)] }],
  ["LeakyReLU", layerOf("LeakyReLU", { negative_slope: 0.3 }), [[4, 4, 2]], { inputs: (next) => [away(next, 32, [0], -4, 4)] }],
  ["ELU, alpha 0.7", layerOf("ELU", { alpha: 0.7 }), [[4, 4, 2]], { inputs: (next) => [away(next, 32, [0], -4, 4)] }],
  ["Softmax", layerOf("Softmax"), [[2, 2, 3]]],
  ["Add of 3 inputs", layerOf("Add"), [[3, 3, 2], [3, 3, 2], [3, 3, 2]]],
  ["Concatenate of 2 inputs", layerOf("Concatenate"), [[2, 3, 2], [2, 3, 3]]],
];

test("the central-difference cases cover every layer type and every activation", () => {
  const types = new Set(CASES.map(([, layer]) => layer.type));
  assert.deepEqual(LAYER_TYPES.filter((t) => !types.has(t)), []);
  const names = new Set(CASES.filter(([, l]) => l.type === "Activation").map(([, l]) => l.activation));
  assert.deepEqual(Object.keys(ACTIVATIONS).filter((a) => !names.has(a)), []);
});

CASES.forEach(([what, layer, shapes, options = {}], c) => {
  test(`layerBackward matches central differences: ${what}`, () => {
    const next = random(100 + c);
    const arrays = Object.fromEntries(layer.arrays.map((a) => [a.name, uniform(next, size(a.shape))]));
    checkGradient(layer, shapes, arrays, next, { inputs: options.inputs?.(next), activation: options.activation ?? true });
  });
});

// -- inputGradient and saliency on a graph ----------------------------------------------

/**
 * Input 6x6x1 -> conv (3x3 same, relu, 2 filters) -> a depthwise conv of it -> Add of the
 * two -> Concatenate with the input itself (the pixels read twice) -> global average ->
 * Dense softmax over 3 classes.
 */
function graphModel(seed) {
  const next = random(seed);
  const model = {
    key: "graph",
    input_shape: [6, 6, 1],
    layers: [
      { ...layerOf("Conv2D", { kernel_size: [3, 3], strides: [1, 1], padding: "same", activation: "relu" }, [["kernel", [3, 3, 1, 2]], ["bias", [2]]]), name: "conv", inputs: [-1], output_shape: [6, 6, 2] },
      { ...layerOf("DepthwiseConv2D", { kernel_size: [3, 3], strides: [1, 1], padding: "same", activation: "linear" }, [["kernel", [3, 3, 2, 1]], ["bias", [2]]]), name: "depthwise", inputs: [0], output_shape: [6, 6, 2] },
      { ...layerOf("Add"), name: "add", inputs: [0, 1], output_shape: [6, 6, 2] },
      { ...layerOf("Concatenate"), name: "join", inputs: [2, -1], output_shape: [6, 6, 3] },
      { ...layerOf("GlobalAveragePooling2D", { keepdims: false }), name: "gap", inputs: [3], output_shape: [3] },
      { ...layerOf("Dense", { activation: "softmax" }, [["kernel", [3, 3]], ["bias", [3]]]), name: "dense", inputs: [4], output_shape: [3] },
    ],
  };
  const arrays = model.layers.map((layer) => Object.fromEntries(layer.arrays.map((a) => [a.name, uniform(next, size(a.shape))])));
  return { model, arrays, pixels: uniform(next, 36, 0, 1) };
}

test("inputGradient of a graph model equals central differences of the pre-softmax score", () => {
  const { model, arrays, pixels } = graphModel(45);
  const run = forward(model, arrays, pixels);
  // Relu's kink must be out of reach of the steps: a step of 1e-3 along a direction of at most
  // 1 per pixel moves a conv unit by at most 9e-3, and the seed puts every unit at least 0.02
  // from 0 (40 of the 72 pass the relu).
  const margin = Math.min(...Array.from(run.runs[0].pre, Math.abs));
  assert.ok(margin > 0.02, `a conv unit is ${margin} from relu's kink`);
  const score = (p, k) => forward(model, arrays, p).runs[5].pre[k]; // the Dense's pre-softmax
  const next = random(8);
  const step = 1e-3;
  for (let k = 0; k < 3; k++) {
    const g = inputGradient(model, arrays, pixels, k);
    assert.equal(g.length, 36);
    const v = uniform(next, 36);
    const plus = Float32Array.from(pixels, (x, i) => x + step * v[i]);
    const minus = Float32Array.from(pixels, (x, i) => x - step * v[i]);
    const numeric = (score(plus, k) - score(minus, k)) / (2 * step);
    const analytic = dot(v, g);
    const scale = g.reduce((s, x, i) => s + Math.abs(x * v[i]), 0);
    assert.ok(Math.abs(numeric - analytic) <= 1e-3 * scale + 1e-5, `class ${k}: central difference ${numeric}, gradient ${analytic}`);
  }
});

test("saliency is the absolute input gradient, the largest over channels", () => {
  const { model, arrays, pixels } = graphModel(45);
  close(saliency(model, arrays, pixels, 1), Array.from(inputGradient(model, arrays, pixels, 1), Math.abs), 0);
  // Two channels by hand: a 1x2x2 input flattened into a Dense; class 0's gradient is
  // the kernel's first column 1, -3, 2, 0.5: pixel 0 max(|1|, |-3|) = 3, pixel 1 max(2, 0.5) = 2.
  const tiny = {
    key: "tiny",
    input_shape: [1, 2, 2],
    layers: [
      { ...layerOf("Flatten"), inputs: [-1], output_shape: [4] },
      { ...layerOf("Dense", { activation: "softmax" }, [["kernel", [4, 2]]]), inputs: [0], output_shape: [2] },
    ],
  };
  const kernel = Float32Array.of(1, 0, -3, 0, 2, 0, 0.5, 0);
  close(saliency(tiny, [{}, { kernel }], Float32Array.of(0.1, 0.2, 0.3, 0.4), 0), [3, 2]);
});

test("a softmax in its own layer gives the same gradient as one folded into the Dense", () => {
  const { model, arrays, pixels } = graphModel(45);
  const dense = model.layers[5];
  const linear = { ...dense, activation: "linear" };
  const separate = { ...model, layers: [...model.layers.slice(0, 5), linear, { ...layerOf("Softmax"), name: "softmax", inputs: [5], output_shape: [3] }] };
  const activation = { ...model, layers: [...model.layers.slice(0, 5), linear, { ...layerOf("Activation", { activation: "softmax" }), name: "probabilities", inputs: [5], output_shape: [3] }] };
  const more = [...arrays, {}];
  for (let k = 0; k < 3; k++) {
    const folded = inputGradient(model, arrays, pixels, k);
    close(inputGradient(separate, more, pixels, k), folded, 1e-7);
    close(inputGradient(activation, more, pixels, k), folded, 1e-7);
  }
});

test("a class index out of range is refused, the message naming the range", () => {
  const { model, arrays, pixels } = graphModel(45);
  for (const bad of [-1, 3, 1.5, "1"]) {
    assert.throws(() => inputGradient(model, arrays, pixels, bad), /classIndex must be an integer from 0 to 2; got/);
    assert.throws(() => saliency(model, arrays, pixels, bad), /from 0 to 2/);
  }
});

// -- receptive boxes through a graph ----------------------------------------------------

const spatial = (type, settings, inputs, outputShape) => ({ type, ...settings, inputs, output_shape: outputShape });
const conv3 = (padding, inputs, outputShape) => spatial("Conv2D", { kernel_size: [3, 3], strides: [1, 1], padding }, inputs, outputShape);

/** 8x8 input -> conv 3x3 valid -> conv 3x3 same -> Add of that and the first conv -> global average -> Dense. */
const RESIDUAL = {
  input_shape: [8, 8, 1],
  layers: [
    conv3("valid", [-1], [6, 6, 2]),
    conv3("same", [0], [6, 6, 2]),
    spatial("Add", {}, [1, 0], [6, 6, 2]),
    spatial("GlobalAveragePooling2D", { keepdims: false }, [2], [2]),
    spatial("Dense", {}, [3], [3]),
  ],
};

test("receptive box of a residual block: the union of the conv path and the identity path", () => {
  // Add (2, 3): the conv path sees rows 1-3, columns 2-4 of the first conv, so pixels rows
  // 1-5, columns 2-6; the identity path the first conv's (2, 3) alone: rows 2-4, columns 3-5.
  assert.deepEqual(receptiveBox(RESIDUAL, 2, 2, 3), [1, 2, 5, 6]);
  assert.deepEqual(receptiveBox(RESIDUAL, 0, 2, 3), [2, 3, 4, 5]);
  // At the corner the same conv's padding leaves rows 0-1 of the first conv: pixels 0-3.
  assert.deepEqual(receptiveBox(RESIDUAL, 2, 0, 0), [0, 0, 3, 3]);
});

test("receptive box of a merge whose paths see different pixels: their union, larger than either", () => {
  // 5x5 input. Path a: conv 3x1 valid (3x5), cropped one column each side (3x3): unit (0, 0)
  // is the conv's (0, 1), pixels rows 0-2 of column 1. Path b: conv 1x3 valid (5x3), cropped
  // one row each side: unit (0, 0) is the conv's (1, 0), row 1, columns 0-2. The Add: a cross, boxed.
  const model = {
    input_shape: [5, 5, 1],
    layers: [
      spatial("Conv2D", { kernel_size: [3, 1], strides: [1, 1], padding: "valid" }, [-1], [3, 5, 1]),
      spatial("Cropping2D", { cropping: [[0, 0], [1, 1]] }, [0], [3, 3, 1]),
      spatial("Conv2D", { kernel_size: [1, 3], strides: [1, 1], padding: "valid" }, [-1], [5, 3, 1]),
      spatial("Cropping2D", { cropping: [[1, 1], [0, 0]] }, [2], [3, 3, 1]),
      spatial("Add", {}, [1, 3], [3, 3, 1]),
    ],
  };
  assert.deepEqual(receptiveBox(model, 1, 0, 0), [0, 1, 2, 1]);
  assert.deepEqual(receptiveBox(model, 3, 0, 0), [1, 0, 1, 2]);
  assert.deepEqual(receptiveBox(model, 4, 0, 0), [0, 0, 2, 2]);
});

test("receptive box after global pooling or a Dense is the whole input", () => {
  assert.deepEqual(receptiveBox(RESIDUAL, 3, 0, 0), [0, 0, 7, 7]);
  assert.deepEqual(receptiveBox(RESIDUAL, 4, 0, 0), [0, 0, 7, 7]);
});

test("receptive box of a flat unit: Flatten and element-wise layers follow it to its cell", () => {
  // 28x28 cropped by 10 on every side (8x8x2 after a 1x1 conv), flattened, dropout, Dense.
  const model = {
    input_shape: [28, 28, 1],
    layers: [
      spatial("Cropping2D", { cropping: [[10, 10], [10, 10]] }, [-1], [8, 8, 1]),
      spatial("Conv2D", { kernel_size: [1, 1], strides: [1, 1], padding: "valid" }, [0], [8, 8, 2]),
      spatial("Flatten", {}, [1], [128]),
      spatial("Dropout", {}, [2], [128]),
      spatial("Dense", {}, [3], [4]),
      spatial("Activation", { activation: "softmax" }, [4], [4]),
    ],
  };
  // Flat index 37 of an 8x8x2 map: cell 18, row 2, column 2 of the crop: pixel (12, 12).
  assert.deepEqual(receptiveBox(model, 2, 0, 0, 37), [12, 12, 12, 12]);
  assert.deepEqual(receptiveBox(model, 3, 0, 0, 37), [12, 12, 12, 12]);
  // A Dense unit, and the softmax after it, see every cell: the crop, not the whole input.
  assert.deepEqual(receptiveBox(model, 4, 0, 0, 3), [10, 10, 17, 17]);
  assert.deepEqual(receptiveBox(model, 5, 0, 0, 0), [10, 10, 17, 17]);
});

test("receptive box of a concatenated map: a channel follows its own branch, until a convolution mixes them", () => {
  // 8x8 input; branch a a 1x1 conv (1 channel), branch b a 5x5 same conv (1 channel);
  // joined (2 channels), max-pooled 2x2 (channels kept), then a 1x1 conv (mixes them).
  const model = {
    input_shape: [8, 8, 1],
    layers: [
      spatial("Conv2D", { kernel_size: [1, 1], strides: [1, 1], padding: "valid" }, [-1], [8, 8, 1]),
      spatial("Conv2D", { kernel_size: [5, 5], strides: [1, 1], padding: "same" }, [-1], [8, 8, 1]),
      spatial("Concatenate", {}, [0, 1], [8, 8, 2]),
      spatial("MaxPooling2D", { pool_size: [2, 2], strides: [2, 2], padding: "valid" }, [2], [4, 4, 2]),
      spatial("Conv2D", { kernel_size: [1, 1], strides: [1, 1], padding: "valid" }, [3], [4, 4, 1]),
    ],
  };
  assert.deepEqual(receptiveBox(model, 2, 4, 4, 0), [4, 4, 4, 4]); // branch a: the pixel
  assert.deepEqual(receptiveBox(model, 2, 4, 4, 1), [2, 2, 6, 6]); // branch b: its 5x5 window
  assert.deepEqual(receptiveBox(model, 3, 1, 1, 0), [2, 2, 3, 3]); // pooled, channel a
  assert.deepEqual(receptiveBox(model, 3, 1, 1, 1), [0, 0, 5, 5]); // pooled, channel b
  assert.deepEqual(receptiveBox(model, 4, 1, 1, 0), [0, 0, 5, 5]); // both, mixed
});

test("receptive box of global pooling: every cell of its input, which may not be every pixel", () => {
  // 28x28 -> 3x3 valid conv, stride 2 (13x13: rows 0-26 read) -> global max, flat or keepdims.
  const conv = spatial("Conv2D", { kernel_size: [3, 3], strides: [2, 2], padding: "valid" }, [-1], [13, 13, 1]);
  for (const [keepdims, shape] of [[false, [1]], [true, [1, 1, 1]]]) {
    const model = { input_shape: [28, 28, 1], layers: [conv, spatial("GlobalMaxPooling2D", { keepdims }, [0], shape)] };
    assert.deepEqual(receptiveBox(model, 1, 0, 0, 0), [0, 0, 26, 26]);
  }
});

test("receptive box of global pooling follows its channel; a softmax over channels mixes them", () => {
  // 4x4 input: branch a a 1x1 conv then cropped to the lower-right 2x2, branch b a 3x3
  // valid conv (2x2, every pixel); joined (2 channels) and pooled to one value each.
  const layers = [
    spatial("Conv2D", { kernel_size: [1, 1], strides: [1, 1], padding: "valid" }, [-1], [4, 4, 1]),
    spatial("Cropping2D", { cropping: [[2, 0], [2, 0]] }, [0], [2, 2, 1]),
    spatial("Conv2D", { kernel_size: [3, 3], strides: [1, 1], padding: "valid" }, [-1], [2, 2, 1]),
    spatial("Concatenate", {}, [1, 2], [2, 2, 2]),
  ];
  for (const [keepdims, shape] of [[false, [2]], [true, [1, 1, 2]]]) {
    const model = { input_shape: [4, 4, 1], layers: [...layers, spatial("GlobalAveragePooling2D", { keepdims }, [3], shape)] };
    assert.deepEqual(receptiveBox(model, 4, 0, 0, 0), [2, 2, 3, 3]); // branch a's pixels only
    assert.deepEqual(receptiveBox(model, 4, 0, 0, 1), [0, 0, 3, 3]);
  }
  // A depthwise convolution with a softmax: each unit reads every channel of its cell.
  const depthwise = { ...spatial("DepthwiseConv2D", { kernel_size: [1, 1], strides: [1, 1], padding: "valid", activation: "softmax" }, [3], [2, 2, 2]), arrays: [{ name: "kernel", shape: [1, 1, 2, 1] }] };
  const model = { input_shape: [4, 4, 1], layers: [...layers, depthwise] };
  assert.deepEqual(receptiveBox(model, 4, 0, 0, 0), [0, 0, 2, 2]);
  const linear = { input_shape: [4, 4, 1], layers: [...layers, { ...depthwise, activation: "linear" }] };
  assert.deepEqual(receptiveBox(linear, 4, 0, 0, 0), [2, 2, 2, 2]); // channel a at (0, 0): pixel (2, 2)
});

test("receptive box of a concatenated vector: each unit follows its own input", () => {
  // Two crops of a 6x6 input, each flattened (4 and 9 values), joined: 13 units.
  const model = {
    input_shape: [6, 6, 1],
    layers: [
      spatial("Cropping2D", { cropping: [[0, 4], [0, 4]] }, [-1], [2, 2, 1]),
      spatial("Cropping2D", { cropping: [[3, 0], [3, 0]] }, [-1], [3, 3, 1]),
      spatial("Flatten", {}, [0], [4]),
      spatial("Flatten", {}, [1], [9]),
      spatial("Concatenate", {}, [2, 3], [13]),
    ],
  };
  assert.deepEqual(receptiveBox(model, 4, 0, 0, 3), [1, 1, 1, 1]); // the first crop's (1, 1)
  assert.deepEqual(receptiveBox(model, 4, 0, 0, 4), [3, 3, 3, 3]); // the second's (0, 0)
  assert.deepEqual(receptiveBox(model, 4, 0, 0, 12), [5, 5, 5, 5]); // the second's (2, 2)
});

test("receptive box through ZeroPadding2D: shifted back by the padding, padding itself no pixel", () => {
  // 5x5 padded 2 rows on top and 1 column on the left (7x6), then a 3x3 valid conv (5x4).
  const model = {
    input_shape: [5, 5, 1],
    layers: [spatial("ZeroPadding2D", { padding: [[2, 0], [1, 0]] }, [-1], [7, 6, 1]), conv3("valid", [0], [5, 4, 1])],
  };
  assert.deepEqual(receptiveBox(model, 0, 3, 3), [1, 2, 1, 2]);
  // Conv (0, 0) reads padded rows 0-2 (only row 2 is a pixel, row 0) and columns 0-2 (pixels 0-1).
  assert.deepEqual(receptiveBox(model, 1, 0, 0), [0, 0, 0, 1]);
  assert.deepEqual(receptiveBox(model, 1, 2, 2), [0, 1, 2, 3]);
  assert.equal(receptiveBox(model, 0, 0, 0), null);
});

test("receptive box through Cropping2D: shifted forward by the cropping", () => {
  const model = {
    input_shape: [5, 5, 1],
    layers: [spatial("Cropping2D", { cropping: [[1, 0], [2, 1]] }, [-1], [4, 2, 1])],
  };
  assert.deepEqual(receptiveBox(model, 0, 0, 0), [1, 2, 1, 2]);
  assert.deepEqual(receptiveBox(model, 0, 3, 1), [4, 3, 4, 3]);
});
