// The weight files: SHA-256 against known digests and node:crypto; weights.bin's checksum
// over the manifest, and each model file's checksum in the manifest; every field of the
// manifest checked, one damaged field at a time; and fuzzing: flipped bytes, cut files, and
// manifests changed with their checksum made again, which must be refused or run.
import assert from "node:assert/strict";
import { test } from "node:test";

import { forward } from "../../cnnviz/explorer/static/layers.js";
import { checkModelFile, float16Table, HEADER_BYTES, modelArrays, parseWeights, readModel, sha256, WeightsError } from "../../cnnviz/explorer/static/weights.js";
import { arraysOf, describe, digest as nodeDigest, planes, random, weightsFile } from "./files.mjs";

test("sha256 of the FIPS 180-4 examples", () => {
  assert.equal(sha256(new Uint8Array(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("sha256 agrees with node:crypto at every padding boundary", () => {
  for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 1000, 70000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) % 256);
    assert.equal(sha256(bytes), nodeDigest(bytes).toString("hex"), `length ${n}`);
  }
});

// -- a small model, written as cnnviz.explorer.export writes its file -------------------------

/** Conv2D (relu), ReLU, MaxPooling2D, Activation, AveragePooling2D, Flatten, Dense, Softmax. */
function model() {
  const next = random(1);
  const values = (n) => Array.from({ length: n }, () => next() - 0.5);
  const arrays = [values(3 * 3 * 1 * 2), values(2), values(98 * 3), values(3)];
  const lengths = arrays.map((a) => a.length);
  const offsets = lengths.map((_, i) => 4 * lengths.slice(0, i).reduce((a, b) => a + b, 0));
  const array = (i, name, shape) => ({ name, shape, offset: offsets[i], length: lengths[i] });
  const manifest = {
    format: "cnnviz-explorer-weights",
    version: 4,
    title: "test",
    class_names: ["a", "b", "c"],
    images: 0,
    models: [
      {
        key: "m",
        name: "small",
        input_shape: [28, 28, 1],
        weights: null,
        layers: [
          { name: "conv", type: "Conv2D", kernel_size: [3, 3], strides: [1, 1], padding: "valid", activation: "relu", output_shape: [26, 26, 2], arrays: [array(0, "kernel", [3, 3, 1, 2]), array(1, "bias", [2])] },
          { name: "leaky", type: "ReLU", negative_slope: 0.1, max_value: null, threshold: 0, output_shape: [26, 26, 2], arrays: [] },
          { name: "pool", type: "MaxPooling2D", pool_size: [2, 2], strides: [2, 2], padding: "valid", output_shape: [13, 13, 2], arrays: [] },
          { name: "squash", type: "Activation", activation: "tanh", output_shape: [13, 13, 2], arrays: [] },
          { name: "mean", type: "AveragePooling2D", pool_size: [3, 3], strides: [2, 2], padding: "same", output_shape: [7, 7, 2], arrays: [] },
          { name: "flat", type: "Flatten", output_shape: [98], arrays: [] },
          { name: "dense", type: "Dense", activation: "linear", output_shape: [3], arrays: [array(2, "kernel", [98, 3]), array(3, "bias", [3])] },
          { name: "probabilities", type: "Softmax", output_shape: [3], arrays: [] },
        ],
      },
    ],
  };
  // A chain: each layer reads the one before (-1: the input).
  manifest.models[0].layers.forEach((layer, i) => {
    layer.inputs = [i - 1];
  });
  const data = new Uint8Array(Float32Array.from(arrays.flat()).buffer);
  const file = describe(manifest, 0, data);
  return { manifest, data, file };
}

const clone = (value) => structuredClone(value);
const refusal = (pattern) => (error) => {
  assert.ok(error instanceof WeightsError, `${error?.name}: ${error?.message}`);
  assert.match(error.message, pattern);
  return true;
};

test("good files give float32 views of their arrays, which run", async () => {
  const { manifest, data, file } = model();
  const parsed = parseWeights(weightsFile(manifest).buffer);
  assert.deepEqual(parsed.manifest, manifest);
  assert.equal(parsed.sha256, nodeDigest(weightsFile(manifest).subarray(40)).toString("hex"));
  // The model's file: checked against the manifest, inflated by the platform, its planes joined.
  const arrays = await readModel(parsed.manifest, 0, file.slice().buffer);
  assert.deepEqual(Array.from(arrays[0].bias), Array.from(new Float32Array(data.buffer, 72, 2)));
  assert.deepEqual(Array.from(arrays[6].kernel), Array.from(new Float32Array(data.buffer, 80, 294)));
  const { outputs } = forward(parsed.manifest.models[0], arrays, new Float32Array(784).fill(0.5));
  const p = outputs.probabilities;
  assert.equal(p.length, 3);
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-6);
});

// -- float16 weights: IEEE 754 binary16, read into float32 exactly ----------------------------

test("float16 bit patterns read as the values worked out by hand", () => {
  const table = float16Table();
  const cases = [
    [0x0000, 0], [0x3c00, 1], [0xc000, -2], [0x3e00, 1.5], [0x3555, 0.333251953125],
    [0x7bff, 65504], [0xfbff, -65504], [0x0400, 2 ** -14], [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24], [0x7c00, Infinity], [0xfc00, -Infinity], [0x4248, 3.140625],
  ];
  for (const [bits, value] of cases) assert.equal(table[bits], value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(table[0x8000], -0));
  for (const nan of [0x7c01, 0x7e00, 0xffff]) assert.ok(Number.isNaN(table[nan]), `0x${nan.toString(16)}`);
  // Every finite positive pattern is above the one before it, and its negative is its mirror.
  for (let h = 1; h <= 0x7bff; h++) {
    assert.ok(table[h] > table[h - 1], `0x${h.toString(16)}`);
    assert.ok(Object.is(table[h | 0x8000], -table[h]), `0x${(h | 0x8000).toString(16)}`);
  }
  // Each value is its exponent's power of two times 1.fraction (0.fraction below the normals).
  for (let h = 0; h <= 0x7bff; h += 97) {
    const e = h >> 10;
    const f = h & 0x3ff;
    assert.equal(table[h], e === 0 ? (f / 1024) * 2 ** -14 : (1 + f / 1024) * 2 ** (e - 15));
  }
  assert.equal(float16Table(), table); // made once
});

test("a float16 model file reads back as its values in float32, and runs", async () => {
  const { manifest } = model();
  const next = random(7);
  // Finite float16 patterns of both signs, exponents 1 to 16 (weights from 6e-5 to 2).
  const bits = Uint16Array.from({ length: 317 }, () => ((next() < 0.5 ? 0x8000 : 0) | ((1 + Math.floor(next() * 16)) << 10) | Math.floor(next() * 1024)));
  const data = new Uint8Array(bits.buffer);
  const file = describe(manifest, 0, data, "float16");
  assert.equal(manifest.models[0].weights.values, 317);
  const parsed = parseWeights(weightsFile(manifest).buffer);
  const arrays = await readModel(parsed.manifest, 0, file.slice().buffer);
  const table = float16Table();
  assert.deepEqual(Array.from(arrays[0].kernel), Array.from(bits.subarray(0, 18), (h) => table[h]));
  assert.deepEqual(Array.from(arrays[6].bias), Array.from(bits.subarray(314), (h) => table[h]));
  const { outputs } = forward(parsed.manifest.models[0], arrays, new Float32Array(784).fill(0.5));
  assert.ok(outputs.probabilities.every(Number.isFinite));
  // Two bytes a value: a float32-long file is refused, and so is a float16 infinity.
  assert.throws(() => modelArrays(manifest, 0, new Uint8Array(4 * 317)), refusal(/weights-0\.bin holds 1268 bytes of weights once inflated; weights\.bin says 317 float16 values \(634 bytes\)/));
  const infinite = bits.slice();
  infinite[19] = 0xfc00; // the conv's second bias value
  assert.throws(() => modelArrays(manifest, 0, planes(new Uint8Array(infinite.buffer), 2)), refusal(/weights-0\.bin's bias of layer "conv" \(models\[0\]\.layers\[0\]\.arrays\[1\]\) holds -Infinity at index 1: expected finite weights/));
});

test("a model file that is not the one weights.bin names is refused before it is inflated", async () => {
  const { manifest, data, file } = model();
  const flipped = file.slice();
  flipped[5] ^= 0x10;
  assert.throws(() => checkModelFile(manifest, 0, flipped.buffer), refusal(/^weights-0\.bin is damaged or was changed: its SHA-256 is [0-9a-f]{64}, but weights\.bin says [0-9a-f]{64}\. The page will not run weights it cannot trust\.$/));
  await assert.rejects(readModel(manifest, 0, flipped.buffer), refusal(/weights-0\.bin is damaged/));
  assert.throws(() => checkModelFile(manifest, 0, file.slice(0, -1).buffer), refusal(/weights-0\.bin is damaged or was changed: it has \d+ bytes, and weights\.bin says \d+/));
  assert.throws(() => checkModelFile(manifest, 0, file), refusal(/weights-0\.bin must be read as an ArrayBuffer/));
  // A file the manifest names rightly but that does not inflate, or inflates to another length.
  const junk = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  const bad = clone(manifest);
  bad.models[0].weights = { ...bad.models[0].weights, bytes: 4, sha256: nodeDigest(junk).toString("hex") };
  await assert.rejects(readModel(bad, 0, junk.buffer), refusal(/weights-0\.bin could not be inflated/));
  assert.throws(() => modelArrays(manifest, 0, planes(data).subarray(4)), refusal(/weights-0\.bin holds 1264 bytes of weights once inflated; weights\.bin says 317 float32 values \(1268 bytes\)/));
});

test("a changed byte anywhere after the magic is refused as damaged, the manifest's too", () => {
  const { manifest } = model();
  const good = weightsFile(manifest);
  const text = new TextDecoder().decode(good.subarray(HEADER_BYTES));
  // The changes the checksum used to miss: an offset, an activation, the order of the class names.
  for (const [from, to] of [
    ['"offset":72', '"offset":76'],
    ['"activation":"relu"', '"activation":"tanh"'],
    ['["a","b","c"]', '["c","b","a"]'],
  ]) {
    const bytes = good.slice();
    const at = text.indexOf(from);
    assert.ok(at > 0, from);
    bytes.set(new TextEncoder().encode(to), HEADER_BYTES + at);
    assert.throws(() => parseWeights(bytes.buffer), refusal(/^the weights file is damaged or was changed: .* The page will not run weights it cannot trust\.$/));
  }
  const bytes = good.slice();
  bytes[bytes.length - 1] ^= 0x01;
  assert.throws(() => parseWeights(bytes.buffer), refusal(/damaged or was changed/));
  bytes[bytes.length - 1] ^= 0x01;
  bytes[20] ^= 0x80; // the stated checksum itself
  assert.throws(() => parseWeights(bytes.buffer), refusal(/damaged or was changed/));
});

// One damaged field each, the checksum made again: what a writer's mistake looks like.
const DAMAGE = [
  ["the top level is a list", () => [], /at the top level: expected an object; got \[\]/],
  ["another format", (m) => { m.format = "other"; }, /at format: expected "cnnviz-explorer-weights"; got "other"/],
  ["version 1", (m) => { m.version = 1; }, /at version: expected 4; got 1/],
  ["a values count off by one", (m) => { m.models[0].weights.values += 1; }, /at models\[0\]\.weights\.values: expected 317, the values of the model's arrays; got 318/],
  ["a weights file in another folder", (m) => { m.models[0].weights.file = "../weights-0.bin"; }, /at models\[0\]\.weights\.file: expected the name of a \.bin file beside the page/],
  ["a weights file at another site", (m) => { m.models[0].weights.file = "https://example.org/w.bin"; }, /at models\[0\]\.weights\.file: expected the name of a \.bin file beside the page/],
  ["two models of one file", (m) => { m.models.push({ ...clone(m.models[0]), key: "n" }); }, /at models\[1\]\.weights\.file: expected the name of a \.bin file beside the page .*, no other model's; got "weights-0\.bin"/],
  ["a checksum in capitals", (m) => { m.models[0].weights.sha256 = m.models[0].weights.sha256.toUpperCase(); }, /at models\[0\]\.weights\.sha256: expected 64 lowercase hexadecimal digits/],
  ["no weights", (m) => { delete m.models[0].weights; }, /at models\[0\]\.weights: expected an object; got nothing/],
  ["a field of newer weights", (m) => { m.models[0].weights.scale = 0.01; }, /at models\[0\]\.weights: it has a field "scale", which a model's weights does not have/],
  ["weights stored as float64", (m) => { m.models[0].weights.dtype = "float64"; }, /at models\[0\]\.weights\.dtype: expected one of "float32", "float16"; got "float64"/],
  ["weights without their dtype (format 3)", (m) => { delete m.models[0].weights.dtype; }, /at models\[0\]\.weights\.dtype: expected one of "float32", "float16"; got nothing/],
  ["a title that is a number", (m) => { m.title = 5; }, /at title: expected a string; got 5/],
  ["two class names for three outputs", (m) => { m.class_names.pop(); }, /at class_names: expected 3 names, one per output of model "m"; got "2 names"/],
  ["a class name that is a number", (m) => { m.class_names[1] = 7; }, /at class_names\[1\]: expected a string; got 7/],
  ["a negative image count", (m) => { m.images = -1; }, /at images: expected the number of images, an integer of at least 0; got -1/],
  ["no models", (m) => { m.models = []; }, /at models: expected a list of at least 1; got \[\]/],
  ["an empty key", (m) => { m.models[0].key = ""; }, /at models\[0\]\.key: expected a non-empty string; got ""/],
  ["two models with one key", (m) => { m.models.push(clone(m.models[0])); }, /at models\[1\]\.key: expected a key no other model has; got "m"/],
  ["an RGB input the first layer does not take", (m) => { m.models[0].input_shape = [28, 28, 3]; }, /at models\[0\]\.layers\[0\]\.arrays\[0\]\.shape: expected \[3,3,3,any\]/],
  ["an input of 2 channels", (m) => { m.models[0].input_shape = [28, 28, 2]; }, /at models\[0\]\.input_shape: expected \[height, width, channels\], channels 1 or 3; got \[28,28,2\]/],
  ["an input of no rows", (m) => { m.models[0].input_shape = [0, 28, 1]; }, /at models\[0\]\.input_shape: expected \[height, width, channels\]/],
  ["two models of two input shapes", (m) => { m.models.push({ ...clone(m.models[0]), key: "n", input_shape: [29, 28, 1], weights: { ...m.models[0].weights, file: "weights-1.bin" } }); }, /at models\[1\]\.input_shape: expected \[28,28,1\], the first model's: the page draws one input; got \[29,28,1\]/],
  ["layers that are not a list", (m) => { m.models[0].layers = {}; }, /at models\[0\]\.layers: expected a list of at least 1; got \{\}/],
  ["no layers", (m) => { m.models[0].layers = []; }, /at models\[0\]\.layers: expected a list of at least 1; got \[\]/],
  ["a layer type the page does not run", (m) => { m.models[0].layers[0].type = "Conv3D"; }, /at models\[0\]\.layers\[0\]\.type: expected one of "Conv2D", .*; got "Conv3D"/],
  ["two layers of one name", (m) => { m.models[0].layers[1].name = "conv"; }, /at models\[0\]\.layers\[1\]\.name: expected a name no other layer of model "m" has; got "conv"/],
  ["a kernel size its kernel does not have", (m) => { m.models[0].layers[0].kernel_size = [5, 5]; }, /at models\[0\]\.layers\[0\]\.arrays\[0\]\.shape: expected \[5,5,1,any\], the kernel size by the 1 input channels by the filters; got \[3,3,1,2\]/],
  ["a stride of 0", (m) => { m.models[0].layers[0].strides = [0, 1]; }, /at models\[0\]\.layers\[0\]\.strides: expected two integers of at least 1; got \[0,1\]/],
  ["a stride of 2 that the output shape does not follow", (m) => { m.models[0].layers[0].strides = [2, 2]; }, /at models\[0\]\.layers\[0\]\.output_shape: expected \[13,13,2\], what this Conv2D makes of its input; got \[26,26,2\]/],
  ["an unknown padding", (m) => { m.models[0].layers[0].padding = "causal"; }, /at models\[0\]\.layers\[0\]\.padding: expected one of "valid", "same"; got "causal"/],
  ["an unknown activation", (m) => { m.models[0].layers[0].activation = "swish"; }, /at models\[0\]\.layers\[0\]\.activation: expected one of "linear", "relu", .*"softmax"; got "swish"/],
  ["a kernel that starts 4 bytes late", (m) => { m.models[0].layers[0].arrays[0].offset = 4; }, /at models\[0\]\.layers\[0\]\.arrays\[0\]\.offset: expected 0, where the array before it ends \(arrays follow one another from 0\); got 4/],
  ["a bias that overlaps the kernel", (m) => { m.models[0].layers[0].arrays[1].offset = 68; }, /at models\[0\]\.layers\[0\]\.arrays\[1\]\.offset: expected 72, .*; got 68/],
  ["an offset that is not aligned", (m) => { m.models[0].layers[6].arrays[0].offset += 2; }, /at models\[0\]\.layers\[6\]\.arrays\[0\]\.offset: expected 80, .*; got 82/],
  ["a length one short of the shape", (m) => { m.models[0].layers[0].arrays[0].length = 17; }, /at models\[0\]\.layers\[0\]\.arrays\[0\]\.length: expected 18, the product of its shape; got 17/],
  ["an array that runs past the data", (m) => { const a = m.models[0].layers[6].arrays[1]; a.shape = [300]; a.length = 300; }, /at models\[0\]\.layers\[6\]\.arrays\[1\]\.length: expected at most 3 values, the rest of the 1268 bytes of weights; got 300/],
  ["a shape of zero", (m) => { const a = m.models[0].layers[0].arrays[1]; a.shape = [0]; }, /at models\[0\]\.layers\[0\]\.arrays\[1\]\.shape: expected a list of integers of at least 1; got \[0\]/],
  ["an array of another name", (m) => { m.models[0].layers[0].arrays[1].name = "gamma"; }, /at models\[0\]\.layers\[0\]\.arrays\[1\]\.name: expected one of "kernel", "bias"; got "gamma"/],
  ["two kernels", (m) => { m.models[0].layers[0].arrays[1].name = "kernel"; }, /at models\[0\]\.layers\[0\]\.arrays\[1\]\.name: expected one kernel per layer; got "kernel"/],
  ["a convolution without its kernel", (m) => { const [, bias] = m.models[0].layers[0].arrays; bias.offset = 0; m.models[0].layers[0].arrays = [bias]; }, /at models\[0\]\.layers\[0\]\.arrays: expected the kernel array of a Conv2D layer; got/],
  ["a bias of the wrong size", (m) => { const layer = m.models[0].layers[6]; layer.arrays[0].shape = [98, 3]; layer.arrays[1].shape = [1, 3]; }, /at models\[0\]\.layers\[6\]\.arrays\[1\]\.shape: expected \[3\], one value per unit; got \[1,3\]/],
  ["a dense kernel transposed", (m) => { m.models[0].layers[6].arrays[0].shape = [3, 98]; }, /at models\[0\]\.layers\[6\]\.arrays\[0\]\.shape: expected \[98,any\], the 98 input values by the units; got \[3,98\]/],
  ["arrays on a pooling layer", (m) => { m.models[0].layers[2].arrays = [{ name: "kernel", shape: [1], offset: 0, length: 1 }]; }, /at models\[0\]\.layers\[2\]\.arrays: expected no arrays for a "MaxPooling2D" layer; got/],
  ["a pool window larger than its input", (m) => { m.models[0].layers[2].pool_size = [27, 2]; }, /at models\[0\]\.layers\[2\]\.pool_size: expected a window that fits in its 26x26 input; got \[27,2\]/],
  ["a pool window of 2.5", (m) => { m.models[0].layers[2].pool_size = [2.5, 2]; }, /at models\[0\]\.layers\[2\]\.pool_size: expected two integers of at least 1; got \[2\.5,2\]/],
  ["pool strides missing", (m) => { delete m.models[0].layers[4].strides; }, /at models\[0\]\.layers\[4\]\.strides: expected two integers of at least 1; got nothing \(the field is missing\)/],
  // Keras refuses these negative; with a negative threshold the page's cap would let values below 0 through.
  ["a negative threshold", (m) => { m.models[0].layers[1].threshold = -1; }, /at models\[0\]\.layers\[1\]\.threshold: expected a number of at least 0; got -1/],
  ["a negative cap", (m) => { m.models[0].layers[1].max_value = -2; }, /at models\[0\]\.layers\[1\]\.max_value: expected a number of at least 0; got -2/],
  ["a negative slope given as text", (m) => { m.models[0].layers[1].negative_slope = "0.1"; }, /at models\[0\]\.layers\[1\]\.negative_slope: expected a number; got "0\.1"/],
  ["no max_value", (m) => { delete m.models[0].layers[1].max_value; }, /at models\[0\]\.layers\[1\]\.max_value: expected a number or null; got nothing/],
  ["a flattened length that is not the product", (m) => { m.models[0].layers[5].output_shape = [99]; }, /at models\[0\]\.layers\[5\]\.output_shape: expected \[98\], what this Flatten makes of its input; got \[99\]/],
  ["a pooling after the flattening", (m) => { m.models[0].layers[7].type = "MaxPooling2D"; }, /at models\[0\]\.layers\[7\]\.type: expected a layer that takes a \(height, width, channels\) input, as the layer before gives \[3\]; got "MaxPooling2D"/],
  ["a dilation the page does not run", (m) => { m.models[0].layers[0].dilation_rate = [2, 2]; }, /at models\[0\]\.layers\[0\]: it has a field "dilation_rate", which a Conv2D layer does not have \(its fields: name, type, inputs, output_shape, arrays, kernel_size, strides, padding, activation\); the page does not run what it cannot read/],
  ["a pool size on a Dense layer", (m) => { m.models[0].layers[6].pool_size = [2, 2]; }, /at models\[0\]\.layers\[6\]: it has a field "pool_size", which a Dense layer does not have/],
  ["a field __proto__ in a layer", (m) => { Object.defineProperty(m.models[0].layers[7], "__proto__", { value: { axis: 1 }, enumerable: true }); }, /at models\[0\]\.layers\[7\]: it has a field "__proto__", which a Softmax layer does not have/],
  ["a dtype on an array", (m) => { m.models[0].layers[0].arrays[0].dtype = "float16"; }, /at models\[0\]\.layers\[0\]\.arrays\[0\]: it has a field "dtype", which an array does not have \(its fields: name, shape, offset, length\)/],
  ["a field of a newer model", (m) => { m.models[0].preprocessing = "invert"; }, /at models\[0\]: it has a field "preprocessing", which a model does not have/],
  ["a field of a newer manifest", (m) => { m.mean = 0.5; }, /at the top level: it has a field "mean", which a manifest does not have/],
  ["a kernel too large for valid padding", (m) => { const layer = m.models[0].layers[0]; layer.kernel_size = [29, 1]; layer.arrays[0].shape = [29, 1, 1, 2]; layer.arrays[0].length = 58; layer.arrays[1].offset = 232; }, /at models\[0\]\.layers\[0\]\.kernel_size: expected a window that fits the 28x28 input with valid padding; got \[29,1\]/],
];

for (const [what, change, message] of DAMAGE) {
  test(`refused, naming the field: ${what}`, () => {
    const { manifest } = model();
    const changed = change(manifest) ?? manifest;
    assert.throws(() => parseWeights(weightsFile(changed).buffer), refusal(message));
  });
}

test("refused: weights that are not finite, a manifest that is not JSON or of another length, other files", () => {
  const { manifest, data } = model();
  const nan = data.slice();
  new DataView(nan.buffer).setFloat32(76, NaN, true); // the conv's second bias value
  assert.throws(() => arraysOf(manifest, 0, nan), refusal(/weights-0\.bin's bias of layer "conv" \(models\[0\]\.layers\[0\]\.arrays\[1\]\) holds NaN at index 1: expected finite weights/));
  assert.throws(() => parseWeights(weightsFile(manifest, { text: "{not json}" }).buffer), refusal(/manifest is not valid JSON/));
  const bytes = weightsFile(manifest);
  for (const version of ["1", "2", "3"]) {
    const old = bytes.slice();
    old.set(new TextEncoder().encode(`CNNVIZW${version}`));
    assert.throws(() => parseWeights(old.buffer), refusal(new RegExp(`in format version ${version}, and this page reads version 4: export the models again`)));
  }
  assert.throws(() => parseWeights(bytes.slice(0, 30).buffer), refusal(/cut short: it has 30 bytes, fewer than its 44-byte header/));
  assert.throws(() => parseWeights(new TextEncoder().encode("<html>not found</html>").buffer), refusal(/not a cnnviz weights file/));
  assert.throws(() => parseWeights(new Uint8Array(0).buffer), refusal(/not a cnnviz weights file/));
  assert.throws(() => parseWeights("CNNVIZW4"), refusal(/must be read as an ArrayBuffer/));
  // A manifest length that is not the rest of the file, under a good checksum.
  for (const size of [bytes.length, bytes.length - HEADER_BYTES - 1]) {
    const wrongLength = bytes.slice();
    new DataView(wrongLength.buffer).setUint32(40, size, true);
    wrongLength.set(nodeDigest(wrongLength.subarray(40)), 8);
    assert.throws(() => parseWeights(wrongLength.buffer), refusal(/manifest length \(bytes 40-43\) is wrong: expected \d+, the bytes after the header/));
  }
});

// -- fuzzing --------------------------------------------------------------------------------

test("fuzz: flipped bytes and cut or lengthened files are always refused, with a WeightsError", () => {
  const { manifest } = model();
  const good = weightsFile(manifest);
  for (let seed = 1; seed <= 400; seed++) {
    const next = random(seed);
    const bytes = good.slice();
    const flips = 1 + Math.floor(next() * 3);
    for (let f = 0; f < flips; f++) bytes[Math.floor(next() * bytes.length)] ^= 1 + Math.floor(next() * 255);
    assert.throws(() => parseWeights(bytes.buffer), refusal(/./), `seed ${seed}: ${flips} flipped bytes`);
    const cut = good.slice(0, Math.floor(next() * good.length));
    assert.throws(() => parseWeights(cut.buffer), refusal(/./), `seed ${seed}: cut at ${cut.length}`);
    const extra = new Uint8Array(good.length + 1 + Math.floor(next() * 16));
    extra.set(good);
    assert.throws(() => parseWeights(extra.buffer), refusal(/./), `seed ${seed}: ${extra.length - good.length} bytes more`);
  }
});

/** Every place in a JSON value: [parent, key] pairs, the value itself excluded. */
function places(value, out = []) {
  if (value && typeof value === "object") {
    for (const key of Object.keys(value)) {
      out.push([value, key]);
      places(value[key], out);
    }
  }
  return out;
}

const VALUES = [-1, 0, 1, 2, 3, 4, 26, 28, 29, 98, 1.5, -0.25, 1e9, 1e300, "relu", "softmax", "same", "valid", "Conv2D", "Dense", "Flatten", "kernel", "bias", "conv", "", "x", null, true, [], {}, [1], [2, 2], [0, 2], [28, 28, 1], [3, 3, 1, 2]];

test("fuzz: a manifest changed with its checksum made again is refused with a WeightsError, or runs", () => {
  const { manifest, data } = model();
  const pixels = Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 28);
  let refused = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const next = random(seed);
    const changed = clone(manifest);
    const spots = places(changed);
    const changes = 1 + Math.floor(next() * 2);
    const done = [];
    for (let c = 0; c < changes; c++) {
      const [parent, key] = spots[Math.floor(next() * spots.length)];
      if (next() < 0.1 && !Array.isArray(parent)) {
        delete parent[key];
        done.push(`delete ${key}`);
      } else {
        parent[key] = clone(VALUES[Math.floor(next() * VALUES.length)]);
        done.push(`${key} = ${JSON.stringify(parent[key])}`);
      }
    }
    let parsed;
    let arrays;
    try {
      parsed = parseWeights(weightsFile(changed).buffer);
      arrays = parsed.manifest.models.map((_, i) => arraysOf(parsed.manifest, i, data));
    } catch (error) {
      assert.ok(error instanceof WeightsError, `seed ${seed} (${done.join(", ")}): ${error.name}: ${error.message}`);
      refused++;
      continue;
    }
    // Accepted: then every model must run, every layer giving as many values as its shape says.
    parsed.manifest.models.forEach((m, i) => {
      const { outputs } = forward(m, arrays[i], pixels);
      for (const layer of m.layers) {
        const values = outputs[layer.name];
        const size = layer.output_shape.reduce((a, b) => a * b, 1);
        assert.equal(values.length, size, `seed ${seed} (${done.join(", ")}): layer ${layer.name}`);
        assert.ok(values.every(Number.isFinite), `seed ${seed} (${done.join(", ")}): layer ${layer.name} is not finite`);
      }
    });
  }
  // Both ways are taken: most changes break a field, some give another model that runs.
  assert.ok(refused > 1000 && refused < 1500, `${refused} of 1500 changed manifests were refused`);
});
