// The layer arithmetic against small cases worked out by hand.
// Run: node --test tests/explorer/ (tests/test_explorer.py runs it under pytest).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  axisPlan,
  conv2d,
  depthwiseConv2d,
  convUnit,
  dense,
  forward,
  pool2d,
  poolUnit,
  receptiveBox,
  relu,
  softmax,
} from "../../cnnviz/explorer/static/layers.js";
import { random } from "./files.mjs";

const range = (n) => Float32Array.from({ length: n }, (_, i) => i);
const ones = (n) => new Float32Array(n).fill(1);
const close = (got, want, tolerance = 1e-6) => {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tolerance, `index ${i}: ${got[i]} != ${w}`));
};

test("output sizes and padding follow TensorFlow, the smaller half of the padding before", () => {
  assert.deepEqual(axisPlan(28, 5, 1, "valid"), { out: 24, before: 0 });
  assert.deepEqual(axisPlan(28, 5, 1, "same"), { out: 28, before: 2 });
  assert.deepEqual(axisPlan(24, 2, 2, "valid"), { out: 12, before: 0 });
  // 5 wide, kernel 2, stride 2: 3 outputs need 6 columns, 1 of padding, after.
  assert.deepEqual(axisPlan(5, 2, 2, "same"), { out: 3, before: 0 });
  // 3 wide, kernel 4: 3 of padding, 1 before and 2 after.
  assert.deepEqual(axisPlan(3, 4, 1, "same"), { out: 3, before: 1 });
  assert.throws(() => axisPlan(3, 2, 1, "full"), /padding/);
});

test("valid convolution: a 2x2 kernel of ones sums each 2x2 window, plus the bias", () => {
  // Input 1..9 as a 3x3 image: windows 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const r = conv2d(input, [3, 3, 1], ones(4), [2, 2, 1, 1], Float32Array.of(1), [1, 1], "valid");
  assert.deepEqual(r.shape, [2, 2, 1]);
  close(r.output, [13, 17, 25, 29]);
});

test("same convolution, odd kernel: zero padding of 1 all round", () => {
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const r = conv2d(input, [3, 3, 1], ones(9), [3, 3, 1, 1], null, [1, 1], "same");
  assert.deepEqual(r.shape, [3, 3, 1]);
  // Corner (0,0): 1+2+4+5; edge (0,1): 1+2+3+4+5+6; centre: all, 45.
  close(r.output, [12, 21, 16, 27, 45, 33, 24, 39, 28]);
});

test("same convolution, even kernel: the one column of padding goes after", () => {
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const r = conv2d(input, [3, 3, 1], ones(4), [2, 2, 1, 1], null, [1, 1], "same");
  // (0,0): 1+2+4+5; (0,2): 3+6 (padding to the right); (2,2): 9 alone.
  close(r.output, [12, 16, 9, 24, 28, 15, 15, 17, 9]);
});

test("strided convolution: stride 2 skips every other window", () => {
  const r = conv2d(range(16), [4, 4, 1], ones(4), [2, 2, 1, 1], null, [2, 2], "valid");
  assert.deepEqual(r.shape, [2, 2, 1]);
  close(r.output, [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]);
});

test("convolution over channels: Keras' (kh, kw, in, out) kernel order", () => {
  // One pixel with channels [1, 2]; kernel rows are input channels: [[1, 2, 3], [4, 5, 6]].
  const r = conv2d(Float32Array.of(1, 2), [1, 1, 2], Float32Array.of(1, 2, 3, 4, 5, 6), [1, 1, 2, 3], null, [1, 1], "valid");
  close(r.output, [1 + 8, 2 + 10, 3 + 12]);
});

test("convolution equals its windows' sums bit for bit: 400 random cases, strides 1-3, both paddings", () => {
  // The sums as the definition reads: per output, the bias, then each tap of the window
  // (rows, columns, channels) inside the input, in float64.
  const windowSums = (input, [h, w, cin], kernel, [kh, kw, , cout], bias, [sy, sx], padding) => {
    const rows = axisPlan(h, kh, sy, padding);
    const cols = axisPlan(w, kw, sx, padding);
    const out = new Float32Array(rows.out * cols.out * cout);
    for (let r = 0; r < rows.out; r++) {
      for (let c = 0; c < cols.out; c++) {
        for (let o = 0; o < cout; o++) {
          let sum = bias ? bias[o] : 0;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const [y, x] = [r * sy - rows.before + i, c * sx - cols.before + j];
              if (y < 0 || y >= h || x < 0 || x >= w) continue;
              for (let ch = 0; ch < cin; ch++) sum += input[(y * w + x) * cin + ch] * kernel[((i * kw + j) * cin + ch) * cout + o];
            }
          }
          out[(r * cols.out + c) * cout + o] = sum;
        }
      }
    }
    return { output: out, shape: [rows.out, cols.out, cout] };
  };
  const next = random(26);
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  for (let n = 0; n < 400; n++) {
    const padding = next() < 0.5 ? "valid" : "same";
    const [h, w, cin, cout] = [int(1, 9), int(1, 9), int(1, 4), int(1, 9)];
    const kh = padding === "valid" ? int(1, h) : int(1, 5);
    const kw = padding === "valid" ? int(1, w) : int(1, 5);
    const strides = [int(1, 3), int(1, 3)];
    const input = Float32Array.from({ length: h * w * cin }, () => (next() < 0.4 ? 0 : next() * 2 - 1));
    const kernel = Float32Array.from({ length: kh * kw * cin * cout }, () => next() * 2 - 1);
    const bias = next() < 0.5 ? null : Float32Array.from({ length: cout }, () => next() - 0.5);
    const args = [input, [h, w, cin], kernel, [kh, kw, cin, cout], bias, strides, padding];
    const got = conv2d(...args);
    const want = windowSums(...args);
    assert.deepEqual(got.shape, want.shape, JSON.stringify(args.slice(1)));
    assert.deepEqual(Array.from(got.output), Array.from(want.output), JSON.stringify([args[1], args[3], strides, padding]));
  }
});

test("max and average pooling, valid and same", () => {
  const valid = pool2d("max", range(16), [4, 4, 1], [2, 2], [2, 2], "valid");
  close(valid.output, [5, 7, 13, 15]);
  // 3x3 input 0..8, pool 2, stride 2, same: windows {0,1,3,4} {2,5} {6,7} {8}.
  const max = pool2d("max", range(9), [3, 3, 1], [2, 2], [2, 2], "same");
  assert.deepEqual(max.shape, [2, 2, 1]);
  close(max.output, [4, 5, 7, 8]);
  // Average pooling leaves padded cells out of the mean, as TensorFlow does.
  close(pool2d("average", range(9), [3, 3, 1], [2, 2], [2, 2], "same").output, [2, 3.5, 6.5, 8]);
  // Negative values: the padding is not a zero that could win.
  const negative = Float32Array.from(range(9), (v) => -1 - v);
  close(pool2d("max", negative, [3, 3, 1], [2, 2], [2, 2], "same").output, [-1, -3, -7, -9]);
});

test("pooling keeps channels apart", () => {
  // 2x2 image, two channels interleaved: channel 0 is 0,2,4,6 and channel 1 is 1,3,5,7.
  close(pool2d("max", range(8), [2, 2, 2], [2, 2], [2, 2], "valid").output, [6, 7]);
});

test("dense: input times kernel plus bias", () => {
  const r = dense(Float32Array.of(1, 2), [2], Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], Float32Array.of(0.5, 0, 0));
  assert.deepEqual(r.shape, [3]);
  close(r.output, [9.5, 12, 15]);
});

test("softmax: exp over the sum, stable for large inputs", () => {
  close(softmax(Float32Array.of(0, Math.log(3)), 2), [0.25, 0.75]);
  close(softmax(Float32Array.of(1000, 1000), 2), [0.5, 0.5]);
  close(softmax(Float32Array.of(0, 0, 5, 5), 2), [0.5, 0.5, 0.5, 0.5]); // per last axis
});

test("relu and its options: negative slope, cap, threshold", () => {
  close(relu(Float32Array.of(-2, 0, 3)), [0, 0, 3]);
  close(relu(Float32Array.of(-2, 0, 3), 0.5), [-1, 0, 3]);
  close(relu(Float32Array.of(-2, 0, 3), 0, 2), [0, 0, 2]);
  // Keras passes what is strictly above the threshold: 1 itself becomes 0.
  close(relu(Float32Array.of(0.5, 1, 3), 0, null, 1), [0, 0, 3]);
  close(relu(Float32Array.of(0.5, 1, 3), 0.5, 2.5, 1), [-0.25, 0, 2.5]);
});

// A tiny model in the manifest's form: conv 2x2 -> relu -> max pool 2 -> flatten -> dense softmax.
const MODEL = {
  key: "tiny",
  input_shape: [3, 3, 1],
  layers: [
    { name: "conv", type: "Conv2D", kernel_size: [2, 2], strides: [1, 1], padding: "valid", activation: "linear", output_shape: [2, 2, 1], arrays: [{ name: "kernel", shape: [2, 2, 1, 1] }, { name: "bias", shape: [1] }] },
    { name: "relu", type: "ReLU", negative_slope: 0, max_value: null, threshold: 0, output_shape: [2, 2, 1], arrays: [] },
    { name: "pool", type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2], padding: "valid", output_shape: [1, 1, 1], arrays: [] },
    { name: "flat", type: "Flatten", output_shape: [1], arrays: [] },
    { name: "out", type: "Dense", activation: "softmax", output_shape: [2], arrays: [{ name: "kernel", shape: [1, 2] }, { name: "bias", shape: [2] }] },
  ],
};
const ARRAYS = [
  { kernel: Float32Array.of(1, 0, 0, -1), bias: Float32Array.of(0) },
  {},
  {},
  {},
  { kernel: Float32Array.of(0, 1), bias: Float32Array.of(0, 0) },
];

test("forward runs the layers in order and names every output", () => {
  // conv: a - e for each window of 1..9 is -4 everywhere, then relu 0, pool 0, softmax(0, 0).
  const { outputs, shapes } = forward(MODEL, ARRAYS, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
  close(outputs.conv, [-4, -4, -4, -4]);
  close(outputs.relu, [0, 0, 0, 0]);
  close(outputs.pool, [0]);
  close(outputs.out, [0.5, 0.5]);
  assert.deepEqual(shapes.out, [2]);
  // Reversed image: 9 - 5 = 4 everywhere; the dense layer gives logits (0, 4).
  const reversed = forward(MODEL, ARRAYS, Float32Array.of(9, 8, 7, 6, 5, 4, 3, 2, 1)).outputs.out;
  close(reversed, [1 / (1 + Math.exp(4)), 1 / (1 + Math.exp(-4))]);
  assert.throws(() => forward(MODEL, ARRAYS, new Float32Array(4)), /9 values/);
});

test("forward names outputs by any layer name, Object.prototype's own names too", () => {
  // Keras takes any name: "__proto__" set the outputs' prototype instead of an entry
  // (missing from Object.keys, so from the page's run() API), "constructor" read Object.
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
  const model = { ...MODEL, layers: MODEL.layers.map((layer, i) => ({ ...layer, name: names[i] })) };
  const plain = forward(MODEL, ARRAYS, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
  const { outputs, shapes } = forward(model, ARRAYS, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
  assert.deepEqual(Object.keys(outputs), names);
  assert.deepEqual(Object.keys(shapes), names);
  MODEL.layers.forEach((layer, i) => {
    assert.ok(Object.hasOwn(outputs, names[i]));
    close(outputs[names[i]], plain.outputs[layer.name]);
    assert.deepEqual(shapes[names[i]], plain.shapes[layer.name]);
  });
});

test("one convolution unit worked out equals the layer's output", () => {
  const input = range(16);
  const kernel = Float32Array.from({ length: 9 }, (_, i) => i - 4);
  const whole = conv2d(input, [4, 4, 1], kernel, [3, 3, 1, 1], Float32Array.of(0.5), [1, 1], "same");
  const unit = convUnit(input, [4, 4, 1], kernel, [3, 3, 1, 1], Float32Array.of(0.5), [1, 1], "same", 0, 3, 0);
  assert.equal(unit.top, -1);
  assert.equal(unit.left, 2);
  // The window's top row and right column are padding.
  assert.deepEqual(Array.from(unit.padded), [1, 1, 1, 0, 0, 1, 0, 0, 1]);
  assert.ok(Math.abs(unit.value - whole.output[3]) < 1e-6);
  assert.equal(unit.bias, 0.5);
});

test("one pooling unit: its window and the winner", () => {
  const unit = poolUnit(range(9), [3, 3, 1], [2, 2], [2, 2], "same", 0, 1, 0);
  assert.equal(unit.winner, 2); // window [2, pad, 5, pad]: 5, at row 1 column 0
  assert.ok(Number.isNaN(unit.window[1]));
  assert.equal(unit.window[2], 5);
});

test("receptive box of LeNet-5 (valid): conv2 sees 14x14 pixels, max_pool2 16x16", () => {
  const lenet = {
    input_shape: [28, 28, 1],
    layers: [
      { type: "Conv2D", kernel_size: [5, 5], strides: [1, 1], padding: "valid", output_shape: [24, 24, 6] },
      { type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2], padding: "valid", output_shape: [12, 12, 6] },
      { type: "Conv2D", kernel_size: [5, 5], strides: [1, 1], padding: "valid", output_shape: [8, 8, 16] },
      { type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2], padding: "valid", output_shape: [4, 4, 16] },
    ],
  };
  assert.deepEqual(receptiveBox(lenet, 0, 3, 4), [3, 4, 7, 8]);
  assert.deepEqual(receptiveBox(lenet, 2, 0, 0), [0, 0, 13, 13]);
  assert.deepEqual(receptiveBox(lenet, 3, 3, 3), [12, 12, 27, 27]);
});

test("one depthwise unit worked out reads its one input channel and equals the layer's output", () => {
  // 4x4 input, 3 channels; multiplier 2: output channel 5 is input channel 2's second kernel.
  const input = Float32Array.from({ length: 48 }, (_, i) => ((i * 7) % 11) - 5);
  const kernel = Float32Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => ((i * 5) % 13) / 13 - 0.5);
  const bias = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
  const whole = depthwiseConv2d(input, [4, 4, 3], kernel, [3, 3, 3, 2], bias, [1, 1], "same");
  for (const [row, col, channel] of [[0, 0, 5], [2, 1, 0], [3, 3, 3]]) {
    const unit = convUnit(input, [4, 4, 3], kernel, [3, 3, 3, 2], bias, [1, 1], "same", row, col, channel, true);
    assert.deepEqual(unit.inputChannels, [Math.floor(channel / 2)]);
    assert.equal(unit.window.length, 9);
    assert.ok(Math.abs(unit.value - whole.output[(row * 4 + col) * 6 + channel]) < 1e-5, `${row},${col},${channel}`);
  }
});
