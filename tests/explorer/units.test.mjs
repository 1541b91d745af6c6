// One unit worked out (the page's "One unit, worked out" panel), for every layer kind
// that is not a convolution or a pooling: hand-worked cases, and the worked value equal
// to what the layer itself computes.
// Run: node --test tests/explorer/ (tests/test_explorer.py runs it under pytest).
import assert from "node:assert/strict";
import { test } from "node:test";

import { denseUnit, flattenedMap, layerUnit, runLayer } from "../../cnnviz/explorer/static/layers.js";

const f32 = (...values) => Float32Array.from(values);
/** Work out unit (cell, channel) of `layer` on `inputs` of `shapes`, and run the layer. */
function worked(layer, inputs, shapes, arrays, cell, channel, top = 8) {
  const run = runLayer(layer, inputs, shapes, arrays);
  return { run, unit: layerUnit(layer, inputs, shapes, arrays, run, cell, channel, top) };
}

test("denseUnit lists the largest products by size, sums the rest and counts the zeros", () => {
  // Inputs 0, 2, -1, 0.5, 3 and the weights of unit 1: 9, 0.5, 4, -2, 0.25 (unit 0's are 1s).
  const kernel = f32(1, 9, 1, 0.5, 1, 4, 1, -2, 1, 0.25);
  const input = f32(0, 2, -1, 0.5, 3);
  const unit = denseUnit(input, kernel, [5, 2], f32(0, 0.125), 1, 2);
  // Products: 2 x 0.5 = 1, -1 x 4 = -4, 0.5 x -2 = -1, 3 x 0.25 = 0.75; the 0 input is left out.
  assert.deepEqual(
    unit.terms.map((t) => [t.index, t.input, t.weight, t.product]),
    [
      [2, -1, 4, -4],
      [1, 2, 0.5, 1], // |1| = |-1|: the earlier input first
    ],
  );
  assert.equal(unit.rest, -1 + 0.75);
  assert.equal(unit.others, 2);
  assert.equal(unit.zeros, 1);
  assert.equal(unit.bias, 0.125);
  assert.equal(unit.sum, 1 - 4 - 1 + 0.75 + 0.125);
  // Every input 0: the bias alone.
  const none = denseUnit(new Float32Array(5), kernel, [5, 2], f32(0, 0.125), 1);
  assert.deepEqual([none.terms, none.others, none.zeros, none.sum], [[], 0, 5, 0.125]);
  assert.throws(() => denseUnit(f32(1, 2), kernel, [5, 2], null, 0), /kernel takes 5 values; input has 2/);
});

test("a dense unit is its products plus the bias, then its activation", () => {
  const layer = { name: "fc", type: "Dense", activation: "relu", arrays: [{ name: "kernel", shape: [3, 2] }, { name: "bias", shape: [2] }] };
  const arrays = { kernel: f32(1, -1, 2, -2, 3, -3), bias: f32(0.5, 0.5) };
  const { run, unit } = worked(layer, [f32(1, 1, 1)], [[3]], arrays, 0, 1);
  // Unit 1: -1 - 2 - 3 + 0.5 = -5.5, then relu: 0.
  assert.equal(unit.kind, "dense");
  assert.equal(unit.sum, -5.5);
  assert.equal(unit.value, 0);
  assert.equal(unit.value, run.output[1]);
  assert.equal(unit.activation, "relu");
  assert.equal(unit.multiplier, 0);
  assert.equal(unit.inputCell, null);
  // Unit 0: 1 + 2 + 3 + 0.5 = 6.5, shown as is.
  assert.equal(worked(layer, [f32(1, 1, 1)], [[3]], arrays, 0, 0).unit.value, 6.5);
});

/** A linear, valid, stride-1 SeparableConv2D of these kernel shapes, with a bias or not. */
const separable = (depthwise, pointwise, bias) => ({
  name: "sep",
  type: "SeparableConv2D",
  activation: "linear",
  strides: [1, 1],
  padding: "valid",
  arrays: [
    { name: "depthwise_kernel", shape: depthwise },
    { name: "pointwise_kernel", shape: pointwise },
    ...(bias ? [{ name: "bias", shape: [pointwise[3]] }] : []),
  ],
});

test("a separable convolution's unit is its pointwise sum over the depthwise outputs at the cell", () => {
  // 2x2 input, 2 channels: channel 0 is 1, 2, 3, 4 and channel 1 is 10, 20, 30, 40.
  const input = f32(1, 10, 2, 20, 3, 30, 4, 40);
  const layer = separable([2, 2, 2, 1], [1, 1, 2, 1], true);
  // Depthwise: channel 0 summed (kernel of ones) = 10; channel 1 times 0.1 = 10.
  const arrays = { depthwise_kernel: f32(1, 0.1, 1, 0.1, 1, 0.1, 1, 0.1), pointwise_kernel: f32(2, -1), bias: f32(3) };
  const { run, unit } = worked(layer, [input], [[2, 2, 2]], arrays, 0, 0);
  assert.equal(unit.kind, "dense");
  assert.equal(unit.multiplier, 1);
  assert.deepEqual(
    unit.terms.map((t) => [t.index, t.weight]),
    [
      [0, 2],
      [1, -1],
    ],
  );
  assert.ok(Math.abs(unit.terms[1].input - 10) < 1e-5);
  assert.ok(Math.abs(unit.sum - (2 * 10 - 10 + 3)) < 1e-5);
  assert.ok(Math.abs(unit.value - run.output[0]) < 1e-6);
});

test("a dense layer on a map reads the channels of one cell", () => {
  // A 1x2 map of 2 channels; Dense(1) with weights 1, 10 and no bias: cell 1 is 3 + 40.
  const layer = { name: "fc", type: "Dense", activation: "linear", arrays: [{ name: "kernel", shape: [2, 1] }] };
  const { run, unit } = worked(layer, [f32(1, 2, 3, 4)], [[1, 2, 2]], { kernel: f32(1, 10), bias: null }, 1, 0);
  assert.deepEqual(unit.inputCell, [0, 1]);
  assert.equal(unit.sum, 43);
  assert.equal(unit.activation, null);
  assert.equal(unit.value, run.output[1]);
});

test("a separable convolution with 2 kernels per channel: depthwise channel k reads input channel k / 2", () => {
  // 1x1 input of 2 channels (3, 5); depthwise 1x1 kernels 1, 2 (channel 0) and 10, 20 (channel 1),
  // so depthwise channels 3, 6, 50, 100; pointwise weights 1, 1, 1, 1 into one output.
  const layer = separable([1, 1, 2, 2], [1, 1, 4, 1], false);
  const arrays = { depthwise_kernel: f32(1, 2, 10, 20), pointwise_kernel: f32(1, 1, 1, 1), bias: null };
  const { run, unit } = worked(layer, [f32(3, 5)], [[1, 1, 2]], arrays, 0, 0);
  assert.equal(unit.multiplier, 2);
  assert.deepEqual(
    unit.terms.map((t) => [t.index, t.input]),
    [
      [3, 100],
      [2, 50],
      [1, 6],
      [0, 3],
    ],
  );
  assert.equal(unit.value, 159);
  assert.equal(unit.value, run.output[0]);
});

test("a softmax on a map is over the channels of one cell", () => {
  const { run, unit } = worked({ name: "s", type: "Activation", activation: "softmax" }, [f32(0, 0, 1, 3)], [[1, 2, 2]], {}, 1, 0);
  assert.equal(unit.perCell, true);
  assert.equal(unit.count, 2);
  assert.equal(unit.max, 3);
  assert.ok(Math.abs(unit.value - Math.exp(-2) / (Math.exp(-2) + 1)) < 1e-6);
  assert.equal(unit.value, run.output[2]);
  // An Activation("leaky_relu") says its slope, Keras' default.
  const leaky = worked({ name: "l", type: "Activation", activation: "leaky_relu" }, [f32(-1)], [[1]], {}, 0, 0).unit;
  assert.deepEqual([leaky.activation, leaky.settings, leaky.value], ["leaky_relu", "slope 0.2 below 0", Math.fround(-0.2)]);
});

test("batch normalization and rescaling units are input x scale + offset, per channel", () => {
  const layer = { name: "bn", type: "BatchNormalization", arrays: [] };
  const arrays = { scale: f32(2, -0.5), offset: f32(1, 0.25) };
  // A 1x2 map of 2 channels: cell 1, channel 1 is 8; 8 x -0.5 + 0.25 = -3.75.
  const { run, unit } = worked(layer, [f32(1, 2, 3, 8)], [[1, 2, 2]], arrays, 1, 1);
  assert.deepEqual(unit, { kind: "affine", value: -3.75, input: 8, scale: -0.5, offset: 0.25 });
  assert.equal(unit.value, run.output[3]);
  // Rescaling with one scale for every channel.
  const one = worked({ name: "r", type: "Rescaling", arrays: [] }, [f32(0, 255)], [[1, 1, 2]], { scale: f32(1 / 255), offset: f32(0) }, 0, 1);
  assert.equal(one.unit.scale, Math.fround(1 / 255));
  assert.equal(one.unit.value, one.run.output[1]);
});

test("activation units name their activation and its settings", () => {
  const x = f32(-2, 7, 3);
  const cases = [
    [{ type: "ReLU", negative_slope: 0, max_value: 6, threshold: 0 }, 1, ["relu", "capped at 6"], 6],
    [{ type: "ReLU", negative_slope: 0, max_value: null, threshold: 0 }, 2, ["relu", ""], 3],
    [{ type: "ReLU", negative_slope: 0, max_value: null, threshold: 2.5 }, 2, ["relu", "0 below 2.5"], 3],
    [{ type: "ReLU", negative_slope: 0.5, max_value: 4, threshold: 1 }, 0, ["relu", "slope 0.5 below 1, capped at 4"], -1.5],
    [{ type: "LeakyReLU", negative_slope: 0.25 }, 0, ["leaky_relu", "slope 0.25 below 0"], -0.5],
    [{ type: "ELU", alpha: 1 }, 0, ["elu", "alpha 1"], Math.fround(Math.expm1(-2))],
    [{ type: "Activation", activation: "tanh" }, 2, ["tanh", ""], Math.fround(Math.tanh(3))],
  ];
  for (const [settings, index, [name, words], value] of cases) {
    const { run, unit } = worked({ name: "a", ...settings }, [x], [[3]], {}, 0, index);
    assert.equal(unit.kind, "activation");
    assert.equal(unit.activation, name);
    assert.equal(unit.settings, words);
    assert.equal(unit.input, x[index]);
    assert.ok(Math.abs(unit.value - value) < 1e-6, `${name}: ${unit.value} != ${value}`);
    assert.equal(unit.value, run.output[index]);
  }
});

test("a softmax unit is exp(score - largest) over the sum of that for every score", () => {
  const scores = f32(1, 3, 2);
  const { run, unit } = worked({ name: "p", type: "Softmax" }, [scores], [[3]], {}, 0, 2);
  assert.equal(unit.activation, "softmax");
  assert.equal(unit.settings, "");
  assert.equal(unit.max, 3);
  const total = Math.exp(-2) + 1 + Math.exp(-1);
  assert.ok(Math.abs(unit.total - total) < 1e-6);
  assert.ok(Math.abs(unit.value - Math.exp(-1) / total) < 1e-6);
  assert.equal(unit.value, run.output[2]);
});

test("padding units copy a cell of the input, or are a zero; cropping units are offset", () => {
  // A 2x3 input of one channel, 1..6; padded by one row above and one column left.
  const input = f32(1, 2, 3, 4, 5, 6);
  const zero = { name: "z", type: "ZeroPadding2D", padding: [[1, 0], [1, 0]] };
  // The padded map is 3x4: cell 0 is padding, cell 5 (row 1, column 1) is input [0, 0].
  assert.deepEqual(worked(zero, [input], [[2, 3, 1]], {}, 0, 0).unit, { kind: "copy", value: 0, from: null });
  assert.deepEqual(worked(zero, [input], [[2, 3, 1]], {}, 5, 0).unit, { kind: "copy", value: 1, from: [0, 0, 0] });
  // Reflect: row 0 of the padded map mirrors input row 1; column 0 mirrors column 1.
  const reflect = { name: "p", type: "Padding2D", mode: "reflect", padding: [[1, 0], [1, 0]] };
  assert.deepEqual(worked(reflect, [input], [[2, 3, 1]], {}, 0, 0).unit, { kind: "copy", value: 5, from: [1, 1, 0] });
  // Circular: column 0 wraps to the last column, 2.
  const circular = { ...reflect, mode: "circular" };
  assert.deepEqual(worked(circular, [input], [[2, 3, 1]], {}, 4, 0).unit, { kind: "copy", value: 3, from: [0, 2, 0] });
  // Cropping one row above and one column left of a 3x3: cell 0 is input [1, 1].
  const crop = { name: "c", type: "Cropping2D", cropping: [[1, 0], [1, 0]] };
  assert.deepEqual(worked(crop, [f32(1, 2, 3, 4, 5, 6, 7, 8, 9)], [[3, 3, 1]], {}, 0, 0).unit, { kind: "copy", value: 5, from: [1, 1, 0] });
});

test("flatten and dropout units name the input cell they copy", () => {
  // A 2x2 map of 3 channels flattened: index 10 is cell 3 (row 1, column 1), channel 1.
  const input = Float32Array.from({ length: 12 }, (_, i) => i);
  const flat = worked({ name: "f", type: "Flatten" }, [input], [[2, 2, 3]], {}, 0, 10);
  assert.deepEqual(flat.unit, { kind: "copy", value: 10, from: [1, 1, 1] });
  // Dropout on a vector: index k is input [k].
  assert.deepEqual(worked({ name: "d", type: "Dropout" }, [f32(4, 5)], [[2]], {}, 0, 1).unit, { kind: "copy", value: 5, from: [1] });
});

test("add units list each input's value; concatenate units name the input and its channel", () => {
  const a = f32(1, 2, 3, 4);
  const b = f32(10, 20, 30, 40);
  // 1x2 maps of 2 channels: cell 1, channel 0 is index 2.
  const add = worked({ name: "add", type: "Add" }, [a, b], [[1, 2, 2], [1, 2, 2]], {}, 1, 0);
  assert.deepEqual(add.unit, { kind: "add", value: 33, terms: [3, 30] });
  // Joined: a's 2 channels, then a 1-channel map c: channel 2 is c's channel 0.
  const c = f32(7, 8);
  const join = worked({ name: "cat", type: "Concatenate" }, [a, c], [[1, 2, 2], [1, 2, 1]], {}, 1, 2);
  assert.deepEqual(join.unit, { kind: "concatenate", value: 8, channel: 2, input: 1, from: 0 });
  assert.deepEqual(worked({ name: "cat", type: "Concatenate" }, [a, c], [[1, 2, 2], [1, 2, 1]], {}, 0, 1).unit, { kind: "concatenate", value: 2, channel: 1, input: 0, from: 1 });
});

test("global pooling units are a channel's mean, or its largest value and where it is", () => {
  // A 2x2 map of 2 channels: channel 1 is 5, 9, -1, 3.
  const input = f32(0, 5, 1, 9, 2, -1, 3, 3);
  const max = worked({ name: "g", type: "GlobalMaxPooling2D", keepdims: false }, [input], [[2, 2, 2]], {}, 0, 1);
  assert.deepEqual(max.unit, { kind: "global", value: 9, pooling: "max", count: 4, at: [0, 1] });
  const mean = worked({ name: "g", type: "GlobalAveragePooling2D", keepdims: false }, [input], [[2, 2, 2]], {}, 0, 1);
  assert.deepEqual(mean.unit, { kind: "global", value: 4, pooling: "average", count: 4, at: null });
});

test("a layer without a worked unit is named", () => {
  assert.throws(() => layerUnit({ name: "odd", type: "Odd" }, [f32(1)], [[1]], {}, { output: f32(1), shape: [1] }, 0, 0), /layer odd: no worked unit for type Odd/);
});

test("flattenedMap finds the map a Dense layer's inputs are the cells of, through Dropout", () => {
  const model = {
    input_shape: [4, 4, 1],
    layers: [
      { name: "pool", type: "MaxPooling2D", output_shape: [2, 2, 3] },
      { name: "flat", type: "Flatten", output_shape: [12] },
      { name: "drop", type: "Dropout", output_shape: [12] },
      { name: "drop2", type: "Dropout", output_shape: [12] },
      { name: "fc", type: "Dense", output_shape: [5] },
      { name: "fc2", type: "Dense", output_shape: [2] },
      { name: "gap", type: "GlobalAveragePooling2D", output_shape: [3], inputs: [0] },
      { name: "flat_in", type: "Flatten", output_shape: [16], inputs: [-1] },
      { name: "fc3", type: "Dense", output_shape: [2], inputs: [7] },
    ],
  };
  assert.deepEqual(flattenedMap(model, 4), { index: 0, shape: [2, 2, 3] }); // two Dropouts back
  assert.deepEqual(flattenedMap(model, 2), { index: 0, shape: [2, 2, 3] }); // right after it
  assert.equal(flattenedMap(model, 5), null); // fc2 reads fc's units, not a map
  assert.equal(flattenedMap(model, 7), null); // a Flatten's input is the map, not flattened
  assert.deepEqual(flattenedMap(model, 8), { index: -1, shape: [4, 4, 1] }); // the image itself
  assert.equal(flattenedMap({ ...model, layers: [...model.layers, { name: "fc4", type: "Dense", inputs: [6] }] }, 9), null);
});
