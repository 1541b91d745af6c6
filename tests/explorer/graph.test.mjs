// Manifests of graph models (format 4): a good one with every merge and the new layers
// passes checkManifest and runs through forward, each layer reading the layers its
// `inputs` name; then one damage at a time (inputs, merges, scales, padding, cropping,
// settings) is refused with a WeightsError naming the field.
import assert from "node:assert/strict";
import { test } from "node:test";

import { forward, layerUnit } from "../../cnnviz/explorer/static/layers.js";
import { checkManifest, MAGIC, parseWeights, VERSION, WeightsError } from "../../cnnviz/explorer/static/weights.js";
import { arraysOf, describe, random, weightsFile } from "./files.mjs";

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The layers of the good graph, arrays as [name, shape]; 28x28x1 in:
 *   0 conv (3x3 valid, relu, 3 filters) -> 1 batch norm -> 2 reflect padding 1 -> 3 cropping 1
 *   4 depthwise (3x3 same) of the conv
 *   5 Add of the cropping, the depthwise and the conv (three 26x26x3)
 *   6 Concatenate of the Add and the batch norm (26x26x6) -> 7 global average -> 8 Dense softmax
 */
function layers() {
  return [
    { name: "conv", type: "Conv2D", inputs: [-1], kernel_size: [3, 3], strides: [1, 1], padding: "valid", activation: "relu", output_shape: [26, 26, 3], arrays: [["kernel", [3, 3, 1, 3]], ["bias", [3]]] },
    { name: "bn", type: "BatchNormalization", inputs: [0], scale: [0.5, -1.25, 2], offset: [0.125, 0, -3], output_shape: [26, 26, 3], arrays: [] },
    { name: "pad", type: "Padding2D", inputs: [1], padding: [[1, 1], [1, 1]], mode: "reflect", output_shape: [28, 28, 3], arrays: [] },
    { name: "crop", type: "Cropping2D", inputs: [2], cropping: [[1, 1], [1, 1]], output_shape: [26, 26, 3], arrays: [] },
    { name: "depthwise", type: "DepthwiseConv2D", inputs: [0], kernel_size: [3, 3], strides: [1, 1], padding: "same", activation: "linear", output_shape: [26, 26, 3], arrays: [["kernel", [3, 3, 3, 1]], ["bias", [3]]] },
    { name: "add", type: "Add", inputs: [3, 4, 0], output_shape: [26, 26, 3], arrays: [] },
    { name: "concat", type: "Concatenate", inputs: [5, 1], output_shape: [26, 26, 6], arrays: [] },
    { name: "gap", type: "GlobalAveragePooling2D", inputs: [6], keepdims: false, output_shape: [6], arrays: [] },
    { name: "dense", type: "Dense", inputs: [7], activation: "softmax", output_shape: [3], arrays: [["kernel", [6, 3]], ["bias", [3]]] },
  ];
}

/**
 * A version-4 manifest of `spec` (layers() changed or not) and its data: each array
 * laid out after the one before, random values, as cnnviz.explorer.export writes them.
 */
function model(spec = layers()) {
  const next = random(3);
  const values = [];
  let offset = 0;
  const laid = spec.map((layer) => ({
    ...layer,
    arrays: layer.arrays.map(([name, shape]) => {
      const length = product(shape);
      const a = { name, shape, offset, length };
      offset += 4 * length;
      for (let i = 0; i < length; i++) values.push(next() - 0.5);
      return a;
    }),
  }));
  const manifest = {
    format: "cnnviz-explorer-weights",
    version: 4,
    title: "graph",
    class_names: ["a", "b", "c"],
    images: 0,
    models: [{ key: "g", name: "graph", input_shape: [28, 28, 1], weights: null, layers: laid }],
  };
  const data = new Uint8Array(Float32Array.from(values).buffer);
  describe(manifest, 0, data);
  return { manifest, data };
}

const refusal = (pattern) => (error) => {
  assert.ok(error instanceof WeightsError, `${error?.name}: ${error?.message}`);
  assert.match(error.message, pattern);
  return true;
};

const pixels = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 100);

/** The manifest as the page reads it: written to weights.bin, checked, parsed. */
const parsed = (manifest) => parseWeights(weightsFile(manifest).buffer).manifest;

test("the format is version 4, magic CNNVIZW4", () => {
  assert.equal(VERSION, 4);
  assert.equal(MAGIC, "CNNVIZW4");
});

test("a good graph manifest passes and runs, each layer reading the layers its inputs name", () => {
  const { manifest, data } = model();
  checkManifest(manifest);
  const parsed = parseWeights(weightsFile(manifest).buffer);
  assert.deepEqual(parsed.manifest, manifest);
  const { outputs, shapes } = forward(parsed.manifest.models[0], arraysOf(parsed.manifest, 0, data), pixels);
  manifest.models[0].layers.forEach((layer) => assert.deepEqual(shapes[layer.name], layer.output_shape, layer.name));
  // Reflect padding then cropping by as much gives the batch norm's output back.
  assert.deepEqual(Array.from(outputs.crop), Array.from(outputs.bn));
  // Add: the cropping + the depthwise + the conv, value by value.
  outputs.add.forEach((v, i) => assert.ok(Math.abs(v - (outputs.crop[i] + outputs.depthwise[i] + outputs.conv[i])) < 1e-5, `add ${i}`));
  // Concatenate: each pixel's 3 Add channels, then its 3 batch norm channels.
  for (const p of [0, 27, 675]) {
    assert.deepEqual(Array.from(outputs.concat.subarray(6 * p, 6 * p + 6)), [...outputs.add.subarray(3 * p, 3 * p + 3), ...outputs.bn.subarray(3 * p, 3 * p + 3)]);
  }
  const probabilities = outputs.dense;
  assert.equal(probabilities.length, 3);
  assert.ok(Math.abs(probabilities[0] + probabilities[1] + probabilities[2] - 1) < 1e-6);
});

test("every unit of every layer of the graph is worked out to the value the layer gives", () => {
  const { manifest, data } = model();
  const spec = manifest.models[0];
  const arrays = arraysOf(manifest, 0, data);
  const { runs } = forward(spec, arrays, pixels);
  const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);
  let checked = 0;
  spec.layers.forEach((layer, l) => {
    if (layer.type === "Conv2D" || layer.type === "DepthwiseConv2D") return; // convUnit's
    const xs = layer.inputs.map((i) => (i < 0 ? pixels : runs[i].output));
    const shapes = layer.inputs.map((i) => (i < 0 ? spec.input_shape : runs[i].shape));
    const out = runs[l].shape;
    const last = out.at(-1);
    const cells = runs[l].output.length / last;
    for (let cell = 0; cell < cells; cell++) {
      for (let channel = 0; channel < last; channel++) {
        const unit = layerUnit(layer, xs, shapes, arrays[l], runs[l], cell, channel);
        const index = cell * last + channel;
        const what = `${layer.name}[${cell}, ${channel}]`;
        assert.equal(unit.value, runs[l].output[index], what);
        // The worked numbers give the value.
        if (unit.kind === "affine") near(unit.input * unit.scale + unit.offset, unit.value, what);
        if (unit.kind === "add") near(unit.terms.reduce((a, b) => a + b, 0), unit.value, what);
        if (unit.kind === "copy") {
          const [w, ch] = [shapes[0][1], shapes[0][2]];
          assert.equal(unit.from === null ? 0 : xs[0][(unit.from[0] * w + unit.from[1]) * ch + unit.from[2]], unit.value, what);
        }
        if (unit.kind === "concatenate") {
          const k = shapes[unit.input].at(-1);
          assert.equal(xs[unit.input][cell * k + unit.from], unit.value, what);
        }
        if (unit.kind === "global") {
          const [h, w, ch] = shapes[0];
          const values = Array.from({ length: h * w }, (_, p) => xs[0][p * ch + channel]);
          if (unit.pooling === "average") near(values.reduce((a, b) => a + b, 0) / (h * w), unit.value, what);
        }
        if (unit.kind === "dense") {
          near(unit.sum, runs[l].pre[index], what);
          near(unit.terms.reduce((a, t) => a + t.product, 0) + unit.rest + unit.bias, unit.sum, what);
        }
        checked++;
      }
    }
  });
  // bn, pad, crop, add: 26x26x3 or 28x28x3 each; concat 26x26x6; gap 6; dense 3.
  assert.equal(checked, 3 * 26 * 26 * 3 + 28 * 28 * 3 + 26 * 26 * 6 + 6 + 3);
});

test("a batch norm's scale and offset are the manifest's numbers, read as float32", () => {
  const spec = layers();
  spec[1].scale = [0.1, 1 / 3, 1e-30];
  const { manifest, data } = model(spec);
  const arrays = arraysOf(parsed(manifest), 0, data)[1];
  assert.ok(arrays.scale instanceof Float32Array && arrays.offset instanceof Float32Array);
  assert.deepEqual(Array.from(arrays.scale), [Math.fround(0.1), Math.fround(1 / 3), Math.fround(1e-30)]);
  assert.deepEqual(Array.from(arrays.offset), [0.125, 0, -3]);
  const { outputs } = forward(manifest.models[0], arraysOf(manifest, 0, data), pixels);
  for (const i of [0, 1, 2, 1000]) {
    const c = i % 3;
    assert.equal(outputs.bn[i], Math.fround(outputs.conv[i] * arrays.scale[c] + arrays.offset[c]));
  }
});

test("a Rescaling with one scale and one offset for all 3 channels passes and runs", () => {
  const spec = layers();
  spec[1] = { ...spec[1], type: "Rescaling", scale: [1 / 255], offset: [-0.5] };
  const { manifest, data } = model(spec);
  const { outputs } = forward(manifest.models[0], arraysOf(parsed(manifest), 0, data), pixels);
  for (const i of [0, 1, 2, 1000]) assert.ok(Math.abs(outputs.bn[i] - (outputs.conv[i] / 255 - 0.5)) < 1e-6);
});

test("a circular Padding2D passes where a reflect one does", () => {
  const spec = layers();
  spec[2].mode = "circular";
  const { manifest, data } = model(spec);
  assert.doesNotThrow(() => parseWeights(weightsFile(manifest).buffer));
});

// One damage each to the layers, the arrays laid out again and the checksum made again.
const AT = "the weights file's manifest is wrong at models\\[0\\]\\.layers";
const DAMAGE = [
  ["an input that is a later layer", (s) => { s[3].inputs = [5]; }, /layers\[3\]\.inputs\[0\]: expected the index of an earlier layer \(0 to 2\) or -1, the model's input; got 5/],
  ["an input that is the layer itself", (s) => { s[3].inputs = [3]; }, /layers\[3\]\.inputs\[0\]: expected the index of an earlier layer \(0 to 2\) or -1, the model's input; got 3/],
  ["an input of -2", (s) => { s[3].inputs = [-2]; }, /layers\[3\]\.inputs\[0\]: expected the index of an earlier layer .*; got -2/],
  ["an input that is not an integer", (s) => { s[3].inputs = [1.5]; }, /layers\[3\]\.inputs\[0\]: expected the index of an earlier layer .*; got 1\.5/],
  ["an input given as text", (s) => { s[6].inputs = [5, "1"]; }, /layers\[6\]\.inputs\[1\]: expected the index of an earlier layer \(0 to 5\) or -1, the model's input; got "1"/],
  ["no inputs", (s) => { s[3].inputs = []; }, /layers\[3\]\.inputs: expected a list of at least 1; got \[\]/],
  ["inputs missing (a chain of format 2)", (s) => { delete s[3].inputs; }, /layers\[3\]\.inputs: expected a list of at least 1; got nothing \(the field is missing\)/],
  ["two inputs for a Conv2D", (s) => { s[0].inputs = [-1, -1]; }, /layers\[0\]\.inputs: expected one input for a Conv2D layer; got \[-1,-1\]/],
  ["two inputs for a DepthwiseConv2D", (s) => { s[4].inputs = [0, 1]; }, /layers\[4\]\.inputs: expected one input for a DepthwiseConv2D layer; got \[0,1\]/],
  ["an Add of two different shapes", (s) => { s[5].inputs = [3, 2]; }, /layers\[5\]\.inputs\[1\]: expected an input of shape \[26,26,3\], as the first; got \[28,28,3\]/],
  ["a Concatenate whose inputs differ in rows", (s) => { s[6].inputs = [5, 2]; }, /layers\[6\]\.inputs\[1\]: expected an input of shape \[26,26,"any"\], as the first but its channels; got \[28,28,3\]/],
  ["a BatchNormalization without its offset", (s) => { delete s[1].offset; }, /layers\[1\]\.offset: expected 3 numbers finite in float32: one per channel; got nothing/],
  ["a BatchNormalization scale of the wrong length", (s) => { s[1].scale = [1, 2]; }, /layers\[1\]\.scale: expected 3 numbers finite in float32: one per channel; got \[1,2\]/],
  ["a BatchNormalization scale of one value", (s) => { s[1].scale = [1]; s[1].offset = [0]; }, /layers\[1\]\.scale: expected 3 numbers finite in float32: one per channel; got \[1\]/],
  ["a BatchNormalization scale given as text", (s) => { s[1].scale = [1, "2", 3]; }, /layers\[1\]\.scale: expected 3 numbers finite in float32: one per channel; got \[1,"2",3\]/],
  ["a BatchNormalization offset beyond float32", (s) => { s[1].offset = [0, 1e39, 0]; }, /layers\[1\]\.offset: expected 3 numbers finite in float32: one per channel; got \[0,1e\+39,0\]/],
  ["a BatchNormalization's scale as an array of the weights file", (s) => { delete s[1].scale; delete s[1].offset; s[1].arrays = [["scale", [3]], ["offset", [3]]]; }, /layers\[1\]\.arrays: expected no arrays for a "BatchNormalization" layer; got/],
  ["a Rescaling of 2 scale values for 3 channels", (s) => { s[1] = { ...s[1], type: "Rescaling", scale: [1, 2], offset: [0, 0] }; }, /layers\[1\]\.scale: expected 1 or 3 numbers finite in float32: one value, or one per channel; got \[1,2\]/],
  ["a Rescaling of one scale and 3 offsets", (s) => { s[1] = { ...s[1], type: "Rescaling", scale: [1], offset: [0, 0, 0] }; }, /layers\[1\]\.offset: expected 1 values, as many as the scale; got \[0,0,0\]/],
  ["a reflect border as wide as the input", (s) => { s[2].padding = [[26, 0], [1, 1]]; s[2].output_shape = [52, 28, 3]; }, /layers\[2\]\.padding: expected a reflect border of at most 25 rows and 25 columns; got \[\[26,0\],\[1,1\]\]/],
  ["a circular border wider than the input", (s) => { s[2].mode = "circular"; s[2].padding = [[1, 1], [27, 0]]; }, /layers\[2\]\.padding: expected a circular border of at most 26 rows and 26 columns; got \[\[1,1\],\[27,0\]\]/],
  ["padding mode symmetric", (s) => { s[2].mode = "symmetric"; }, /layers\[2\]\.mode: expected one of "reflect", "circular"; got "symmetric"/],
  ["a padding of -1", (s) => { s[2].padding = [[1, 1], [-1, 3]]; }, /layers\[2\]\.padding: expected \[\[top, bottom\], \[left, right\]\], integers of at least 0; got \[\[1,1\],\[-1,3\]\]/],
  ["a cropping that removes all rows", (s) => { s[3].cropping = [[14, 14], [1, 1]]; }, /layers\[3\]\.cropping: expected less than the 28x28 input; got \[\[14,14\],\[1,1\]\]/],
  ["a GlobalAveragePooling2D whose keepdims is \"yes\"", (s) => { s[7].keepdims = "yes"; }, /layers\[7\]\.keepdims: expected one of true, false; got "yes"/],
  ["a Concatenate's output_shape that does not follow", (s) => { s[6].output_shape = [26, 26, 5]; }, /layers\[6\]\.output_shape: expected \[26,26,6\], what this Concatenate makes of its input; got \[26,26,5\]/],
  ["a cropping's output_shape that does not follow", (s) => { s[3].output_shape = [28, 28, 3]; }, /layers\[3\]\.output_shape: expected \[26,26,3\], what this Cropping2D makes of its input; got \[28,28,3\]/],
  ["a dilation_rate on a DepthwiseConv2D", (s) => { s[4].dilation_rate = [2, 2]; }, /layers\[4\]: it has a field "dilation_rate", which a DepthwiseConv2D layer does not have \(its fields: name, type, inputs, output_shape, arrays, kernel_size, strides, padding, activation\)/],
  ["an axis on a Concatenate", (s) => { s[6].axis = 1; }, /layers\[6\]: it has a field "axis", which a Concatenate layer does not have/],
  ["a DepthwiseConv2D kernel for 1 channel of 3", (s) => { s[4].arrays = [["kernel", [3, 3, 1, 3]], ["bias", [3]]]; }, /layers\[4\]\.arrays\[0\]\.shape: expected \[3,3,3,any\], the kernel size by the 3 input channels by the depth multiplier; got \[3,3,1,3\]/],
];

for (const [what, change, message] of DAMAGE) {
  test(`a graph manifest refused, naming the field: ${what}`, () => {
    const spec = layers();
    change(spec);
    const { manifest, data } = model(spec);
    assert.throws(() => checkManifest(manifest), refusal(new RegExp(AT)));
    assert.throws(() => parseWeights(weightsFile(manifest).buffer), refusal(message));
  });
}

test("a scale of 1e999 in the manifest's text is refused, and shown as Infinity, not null", () => {
  const { manifest } = model();
  const text = JSON.stringify(manifest).replace('"scale":[0.5,-1.25,2]', '"scale":[0.5,1e999,2]');
  assert.ok(text.includes("1e999"));
  assert.throws(() => parseWeights(weightsFile(manifest, { text }).buffer), refusal(/layers\[1\]\.scale: expected 3 numbers finite in float32: one per channel; got \[0\.5,"Infinity",2\]/));
});
