// Reading the weights: weights.bin (magic, checksum, manifest), then each
// model's own file (its float32 or float16 weights as byte planes, deflated) when the
// model is shown. The format is documented in cnnviz/explorer/__init__.py. The
// SHA-256 in weights.bin's header covers every byte after it, so nothing in the
// manifest is read before it is known to be the bytes the export wrote; the
// manifest holds each model file's SHA-256, checked before the file is inflated;
// then every field is checked against the others, so that
// a file from another writer (or an edited one, its checksum made again) is
// refused with a message rather than run into a wrong answer or a RangeError.
// SHA-256 is computed here, in plain JavaScript, rather than with crypto.subtle,
// which browsers offer only on https and localhost pages: the explorer must check
// its weights on any static host. No DOM here: this module runs under `node --test`.

import { ACTIVATIONS as ACTIVATION_TABLE, axisPlan } from "./layers.js";

export const MAGIC = "CNNVIZW4";
/** The format's version: the magic's digit and the manifest's "version". */
export const VERSION = 4;
/** How a model's file may store its weights, and the bytes of each value. */
export const DTYPES = { float32: 4, float16: 2 };
/** The header: the magic (8 bytes), the SHA-256 of the rest (32), the manifest's length (4). */
export const HEADER_BYTES = 44;
/** What the page computes; anything else in a manifest is refused. */
export const ACTIVATIONS = Object.keys(ACTIVATION_TABLE);
export const PADDINGS = ["valid", "same"];
/** cnnviz's Padding2D's modes. */
export const PAD_MODES = ["reflect", "circular"];
/** The channels of the images the page draws: gray, or red, green and blue. */
export const CHANNELS = [1, 3];

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of `bytes` (a Uint8Array), as 64 lowercase hex digits (FIPS 180-4). */
export function sha256(bytes) {
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);
  const hash = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + 4 * t);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[t] + w[t]) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) hash[i] = (hash[i] + next[i]) >>> 0;
  }
  return Array.from(hash, (x) => x.toString(16).padStart(8, "0")).join("");
}

/** Raised for a weights file the page must not use; its message is shown to the reader. */
export class WeightsError extends Error {
  constructor(message) {
    super(message);
    this.name = "WeightsError";
  }
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Parse weights.bin (an ArrayBuffer). Returns {manifest, sha256}: sha256 is the
 * header's checksum (hex), which images.json names. Throws WeightsError for any
 * file the page must not use: not a weights file, another format version, a
 * checksum that does not match, a manifest that is not JSON or whose fields do
 * not fit together.
 */
export function parseWeights(buffer) {
  if (!(buffer instanceof ArrayBuffer)) {
    throw new WeightsError(`the weights file must be read as an ArrayBuffer; got ${Object.prototype.toString.call(buffer)}`);
  }
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) {
    if (/^CNNVIZW[0-9]$/.test(magic)) {
      throw new WeightsError(
        `the weights file is in format version ${magic[7]}, and this page reads version ${VERSION}: ` +
          "export the models again with the cnnviz that wrote this page",
      );
    }
    throw new WeightsError(`this is not a cnnviz weights file (it does not start with ${MAGIC})`);
  }
  if (bytes.length < HEADER_BYTES) {
    throw new WeightsError(
      `the weights file is cut short: it has ${bytes.length} bytes, fewer than its ${HEADER_BYTES}-byte header`,
    );
  }
  const stated = hex(bytes.subarray(8, 40));
  const digest = sha256(bytes.subarray(40));
  if (digest !== stated) {
    throw new WeightsError(
      `the weights file is damaged or was changed: the SHA-256 of its manifest ` +
        `(${bytes.length - 40} bytes) is ${digest}, but its header says ${stated}. ` +
        "The page will not run weights it cannot trust.",
    );
  }
  // From here on the bytes are the writer's: what is wrong is the writer's mistake.
  const size = new DataView(buffer).getUint32(40, true);
  const room = bytes.length - HEADER_BYTES;
  if (size !== room) {
    throw new WeightsError(
      `the weights file's manifest length (bytes 40-43) is wrong: expected ${room}, the bytes after the header; got ${size}`,
    );
  }
  let manifest;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(HEADER_BYTES));
    manifest = JSON.parse(text);
  } catch (error) {
    throw new WeightsError(`the weights file's manifest is not valid JSON (${error.message})`);
  }
  checkManifest(manifest);
  return { manifest, sha256: digest };
}

/**
 * Check model `m`'s weights file (an ArrayBuffer, as fetched) against the manifest:
 * its length and SHA-256. Returns its bytes; throws WeightsError if it is not the file.
 */
export function checkModelFile(manifest, m, buffer) {
  const { file, bytes: size, sha256: stated } = manifest.models[m].weights;
  if (!(buffer instanceof ArrayBuffer)) {
    throw new WeightsError(`${file} must be read as an ArrayBuffer; got ${Object.prototype.toString.call(buffer)}`);
  }
  const bytes = new Uint8Array(buffer);
  if (bytes.length !== size) {
    throw new WeightsError(`${file} is damaged or was changed: it has ${bytes.length} bytes, and weights.bin says ${size}`);
  }
  const digest = sha256(bytes);
  if (digest !== stated) {
    throw new WeightsError(
      `${file} is damaged or was changed: its SHA-256 is ${digest}, but weights.bin says ${stated}. ` +
        "The page will not run weights it cannot trust.",
    );
  }
  return bytes;
}

/** Raw DEFLATE (RFC 1951) inflated by the platform (browsers and Node have DecompressionStream). */
export async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let halves = null;

/**
 * The float32 value of each of the 65,536 float16 bit patterns (IEEE 754 binary16:
 * 1 sign bit, 5 exponent bits biased by 15, 10 fraction bits), made once, when
 * first asked for: every float16 is a float32 exactly.
 */
export function float16Table() {
  if (halves === null) {
    halves = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >> 10) & 0x1f;
      const fraction = h & 0x3ff;
      halves[h] =
        exponent === 0x1f
          ? fraction === 0 ? sign * Infinity : NaN
          : exponent === 0
            ? sign * fraction * 2 ** -24 // subnormal: 0.fraction x 2^-14
            : sign * (1024 + fraction) * 2 ** (exponent - 25); // 1.fraction x 2^(exponent - 15)
    }
  }
  return halves;
}

/**
 * The arrays of model `m` from its inflated weights (`planes`: the first byte of every
 * value, then the second, ...; four bytes a value for float32, two for float16):
 * arrays[l] maps each array name of layer l to a Float32Array. Throws WeightsError if
 * the length is not the manifest's or a weight is not finite.
 */
export function modelArrays(manifest, m, planes) {
  const model = manifest.models[m];
  const { file, values: count, dtype } = model.weights;
  const width = DTYPES[dtype];
  if (planes.length !== width * count) {
    throw new WeightsError(
      `${file} holds ${planes.length} bytes of weights once inflated; weights.bin says ${count} ${dtype} values (${width * count} bytes)`,
    );
  }
  let data;
  if (width === 2) {
    const table = float16Table();
    const low = planes.subarray(0, count);
    const high = planes.subarray(count);
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = table[low[i] | (high[i] << 8)];
  } else {
    const bytes = new Uint8Array(4 * count);
    for (let k = 0; k < 4; k++) {
      const plane = planes.subarray(k * count, (k + 1) * count);
      for (let i = 0; i < count; i++) bytes[4 * i + k] = plane[i];
    }
    // Every browser is little-endian, as the file is.
    data = new Float32Array(bytes.buffer);
  }
  return model.layers.map((layer, l) => {
    const named = {};
    for (const [i, a] of layer.arrays.entries()) {
      const values = data.subarray(a.offset / 4, a.offset / 4 + a.length);
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new WeightsError(
          `${file}'s ${a.name} of layer ${JSON.stringify(layer.name)} (models[${m}].layers[${l}].arrays[${i}]) ` +
            `holds ${values[bad]} at index ${bad}: expected finite weights`,
        );
      }
      named[a.name] = values;
    }
    if (layer.type === "BatchNormalization" || layer.type === "Rescaling") {
      // Numbers of the manifest, each a float32 value: read exactly.
      named.scale = Float32Array.from(layer.scale);
      named.offset = Float32Array.from(layer.offset);
    }
    return named;
  });
}

/** Model `m`'s arrays from its weights file as fetched: checked, inflated, read. */
export async function readModel(manifest, m, buffer) {
  const bytes = checkModelFile(manifest, m, buffer);
  let planes;
  try {
    planes = await inflate(bytes);
  } catch (error) {
    throw new WeightsError(`${manifest.models[m].weights.file} could not be inflated (${error.message})`);
  }
  return modelArrays(manifest, m, planes);
}

// -- the manifest's fields, each against the others ------------------------------------

function show(value) {
  if (value === undefined) return "nothing (the field is missing)";
  // Infinity and NaN as themselves: JSON would write them as null.
  const text = JSON.stringify(value, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? `${v}` : v)) ?? `${value}`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The error for one field: where it is, what it should be, what it is. */
function wrong(path, expected, got) {
  return new WeightsError(`the weights file's manifest is wrong at ${path}: expected ${expected}; got ${show(got)}`);
}

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value, least) => Number.isSafeInteger(value) && value >= least;
const sameList = (a, b) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
const product = (shape) => shape.reduce((a, b) => a * b, 1);

function object(value, path) {
  if (!isObject(value)) throw wrong(path, "an object", value);
  return value;
}

function list(value, path, least = 0) {
  if (!Array.isArray(value) || value.length < least) {
    throw wrong(path, least ? `a list of at least ${least}` : "a list", value);
  }
  return value;
}

function name(value, path) {
  if (typeof value !== "string" || value === "") throw wrong(path, "a non-empty string", value);
  return value;
}

function oneOf(value, path, allowed) {
  if (!allowed.includes(value)) throw wrong(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
  return value;
}

function pair(value, path) {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => isCount(v, 1))) {
    throw wrong(path, "two integers of at least 1", value);
  }
  return value;
}

/** The fields each part of a manifest has: a field the page does not read is refused, not ignored. */
const FIELDS = {
  manifest: ["format", "version", "title", "class_names", "images", "models"],
  model: ["key", "name", "input_shape", "weights", "layers"],
  weights: ["file", "bytes", "sha256", "values", "dtype"],
  array: ["name", "shape", "offset", "length"],
};
const LAYER_FIELDS = ["name", "type", "inputs", "output_shape", "arrays"];
const CONVOLUTION = ["kernel_size", "strides", "padding", "activation"];
const POOLING = ["pool_size", "strides", "padding"];
/** Each layer type's own fields; the page runs these types and no other. */
const TYPE_FIELDS = {
  Conv2D: CONVOLUTION,
  DepthwiseConv2D: CONVOLUTION,
  SeparableConv2D: CONVOLUTION,
  Dense: ["activation"],
  MaxPooling2D: POOLING,
  AveragePooling2D: POOLING,
  GlobalMaxPooling2D: ["keepdims"],
  GlobalAveragePooling2D: ["keepdims"],
  BatchNormalization: ["scale", "offset"],
  Rescaling: ["scale", "offset"],
  ZeroPadding2D: ["padding"],
  Padding2D: ["padding", "mode"],
  Cropping2D: ["cropping"],
  Dropout: [],
  SpatialDropout2D: [],
  Activation: ["activation"],
  ReLU: ["negative_slope", "max_value", "threshold"],
  LeakyReLU: ["negative_slope"],
  ELU: ["alpha"],
  Softmax: [],
  Flatten: [],
  Add: [],
  Concatenate: [],
};
export const LAYER_TYPES = Object.keys(TYPE_FIELDS);
/** The layers that read several inputs; every other reads one. */
const MERGES = ["Add", "Concatenate"];

/**
 * Refuse a field of `value` that is not one of `fields`: a field the page does not read
 * may be one that changes what a layer computes (a "dilation_rate", "groups"), and the
 * page would run the layer without it.
 */
function onlyFields(value, path, fields, what) {
  const extra = Object.keys(value).find((key) => !fields.includes(key));
  if (extra !== undefined) {
    throw new WeightsError(
      `the weights file's manifest is wrong at ${path}: it has a field ${JSON.stringify(extra)}, which ${what} does not have ` +
        `(its fields: ${fields.join(", ")}); the page does not run what it cannot read`,
    );
  }
}

function finite(value, path, allowNull = false) {
  if (allowNull && value === null) return value;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw wrong(path, allowNull ? "a number or null" : "a number", value);
  }
  return value;
}

/** Check every field of a manifest; throw WeightsError naming the first that is wrong. */
export function checkManifest(manifest) {
  object(manifest, "the top level");
  onlyFields(manifest, "the top level", FIELDS.manifest, "a manifest");
  if (manifest.format !== "cnnviz-explorer-weights") throw wrong("format", '"cnnviz-explorer-weights"', manifest.format);
  if (manifest.version !== VERSION) throw wrong("version", `${VERSION}`, manifest.version);
  if (typeof manifest.title !== "string") throw wrong("title", "a string", manifest.title);
  const classNames = list(manifest.class_names, "class_names");
  classNames.forEach((n, k) => {
    if (typeof n !== "string") throw wrong(`class_names[${k}]`, "a string", n);
  });
  if (!isCount(manifest.images, 0)) throw wrong("images", "the number of images, an integer of at least 0", manifest.images);
  const models = list(manifest.models, "models", 1);
  const keys = new Set();
  const files = new Set();
  models.forEach((model, m) => {
    const path = `models[${m}]`;
    object(model, path);
    onlyFields(model, path, FIELDS.model, "a model");
    const key = name(model.key, `${path}.key`);
    if (keys.has(key)) throw wrong(`${path}.key`, "a key no other model has", key);
    const weights = object(model.weights, `${path}.weights`);
    onlyFields(weights, `${path}.weights`, FIELDS.weights, "a model's weights");
    // A file beside the page: the page fetches nothing from elsewhere.
    if (typeof weights.file !== "string" || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*\.bin$/.test(weights.file) || files.has(weights.file)) {
      throw wrong(`${path}.weights.file`, "the name of a .bin file beside the page (letters, digits, . _ -), no other model's", weights.file);
    }
    files.add(weights.file);
    if (!isCount(weights.bytes, 0)) throw wrong(`${path}.weights.bytes`, "the file's length, an integer of at least 0", weights.bytes);
    if (typeof weights.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(weights.sha256)) {
      throw wrong(`${path}.weights.sha256`, "64 lowercase hexadecimal digits", weights.sha256);
    }
    if (!isCount(weights.values, 0)) throw wrong(`${path}.weights.values`, "the number of weights, an integer of at least 0", weights.values);
    oneOf(weights.dtype, `${path}.weights.dtype`, Object.keys(DTYPES));
    let offset = 0;
    keys.add(key);
    if (typeof model.name !== "string") throw wrong(`${path}.name`, "a string", model.name);
    const input = model.input_shape;
    const ok = Array.isArray(input) && input.length === 3 && input.every((d) => isCount(d, 1)) && CHANNELS.includes(input[2]);
    if (!ok) throw wrong(`${path}.input_shape`, "[height, width, channels], channels 1 or 3", input);
    // One canvas for every model: the first model's input is the page's.
    if (m > 0 && !sameList(input, models[0].input_shape)) {
      throw wrong(`${path}.input_shape`, `${show(models[0].input_shape)}, the first model's: the page draws one input`, input);
    }
    const layers = list(model.layers, `${path}.layers`, 1);
    const names = new Set();
    const shapes = [];
    let shape = input;
    layers.forEach((layer, l) => {
      const at = `${path}.layers[${l}]`;
      object(layer, at);
      const layerName = name(layer.name, `${at}.name`);
      if (names.has(layerName)) throw wrong(`${at}.name`, `a name no other layer of model ${JSON.stringify(key)} has`, layerName);
      names.add(layerName);
      oneOf(layer.type, `${at}.type`, LAYER_TYPES);
      onlyFields(layer, at, [...LAYER_FIELDS, ...TYPE_FIELDS[layer.type]], `a ${layer.type} layer`);
      const inputs = list(layer.inputs, `${at}.inputs`, 1);
      inputs.forEach((i, k) => {
        if (!Number.isSafeInteger(i) || i < -1 || i >= l) {
          throw wrong(`${at}.inputs[${k}]`, `the index of an earlier layer (0 to ${l - 1}) or -1, the model's input`, i);
        }
      });
      if (!MERGES.includes(layer.type) && inputs.length !== 1) throw wrong(`${at}.inputs`, `one input for a ${layer.type} layer`, inputs);
      offset = checkArrays(layer, at, offset, 4 * weights.values);
      shape = checkLayer(layer, at, inputs.map((i) => (i < 0 ? input : shapes[i])));
      shapes.push(shape);
      if (!sameList(layer.output_shape, shape)) {
        throw wrong(`${at}.output_shape`, `${show(shape)}, what this ${layer.type} makes of its input`, layer.output_shape);
      }
    });
    if (shape.length === 1 && shape[0] !== classNames.length) {
      throw wrong("class_names", `${shape[0]} names, one per output of model ${JSON.stringify(key)}`, `${classNames.length} names`);
    }
    if (offset !== 4 * weights.values) {
      throw wrong(`${path}.weights.values`, `${offset / 4}, the values of the model's arrays`, weights.values);
    }
  });
}

/** The arrays of each type that has any: the first named is required, the others optional. */
const ARRAYS = {
  Conv2D: ["kernel", "bias"],
  DepthwiseConv2D: ["kernel", "bias"],
  SeparableConv2D: ["depthwise_kernel", "pointwise_kernel", "bias"],
  Dense: ["kernel", "bias"],
};
const REQUIRED = { SeparableConv2D: ["depthwise_kernel", "pointwise_kernel"] };

/** Check a layer's arrays: names, shapes, lengths, one after the other from `offset`. Returns the end. */
function checkArrays(layer, path, offset, dataBytes) {
  const arrays = list(layer.arrays, `${path}.arrays`);
  const allowed = ARRAYS[layer.type] ?? [];
  const seen = new Set();
  arrays.forEach((a, i) => {
    const at = `${path}.arrays[${i}]`;
    object(a, at);
    onlyFields(a, at, FIELDS.array, "an array");
    if (!allowed.length) throw wrong(`${path}.arrays`, `no arrays for a ${show(layer.type)} layer`, arrays);
    oneOf(a.name, `${at}.name`, allowed);
    if (seen.has(a.name)) throw wrong(`${at}.name`, `one ${a.name} per layer`, a.name);
    seen.add(a.name);
    if (!Array.isArray(a.shape) || a.shape.length === 0 || !a.shape.every((d) => isCount(d, 1))) {
      throw wrong(`${at}.shape`, "a list of integers of at least 1", a.shape);
    }
    if (a.length !== product(a.shape)) throw wrong(`${at}.length`, `${product(a.shape)}, the product of its shape`, a.length);
    if (a.offset !== offset) {
      throw wrong(`${at}.offset`, `${offset}, where the array before it ends (arrays follow one another from 0)`, a.offset);
    }
    offset += 4 * a.length;
    if (offset > dataBytes) {
      throw wrong(`${at}.length`, `at most ${(dataBytes - a.offset) / 4} values, the rest of the ${dataBytes} bytes of weights`, a.length);
    }
  });
  for (const needed of REQUIRED[layer.type] ?? (allowed.length ? ["kernel"] : [])) {
    if (!seen.has(needed)) throw wrong(`${path}.arrays`, `the ${needed} array of a ${layer.type} layer`, arrays);
  }
  return offset;
}

function edges(value, path) {
  const ok = Array.isArray(value) && value.length === 2 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => isCount(v, 0)));
  if (!ok) throw wrong(path, "[[top, bottom], [left, right]], integers of at least 0", value);
  return value;
}

/** Check one layer's settings and arrays against its inputs' `shapes`; return its output shape. */
function checkLayer(layer, path, shapes) {
  const type = oneOf(layer.type, `${path}.type`, LAYER_TYPES);
  const shape = shapes[0];
  const spatial = () => {
    if (shape.length !== 3) throw wrong(`${path}.type`, `a layer that takes a (height, width, channels) input, as the layer before gives ${show(shape)}`, type);
  };
  const array = (n) => layer.arrays.find((a) => a.name === n);
  // A kernel's last axis (filters, units) is its own; the rest must fit the layer.
  const expectShape = (a, expected, why) => {
    const i = layer.arrays.indexOf(a);
    const ok = a.shape.length === expected.length && expected.every((d, k) => d === null || a.shape[k] === d);
    const said = `[${expected.map((d) => d ?? "any").join(",")}]`;
    if (!ok) throw wrong(`${path}.arrays[${i}].shape`, `${said}, ${why}`, a.shape);
  };
  const window = (size, strides, padding) => {
    const rows = axisPlan(shape[0], size[0], strides[0], padding).out;
    const cols = axisPlan(shape[1], size[1], strides[1], padding).out;
    if (rows < 1 || cols < 1) {
      throw wrong(`${path}.${layer.kernel_size ? "kernel_size" : "pool_size"}`, `a window that fits the ${shape[0]}x${shape[1]} input with valid padding`, size);
    }
    return [rows, cols];
  };
  const last = shape[shape.length - 1];
  switch (type) {
    case "Conv2D":
    case "DepthwiseConv2D":
    case "SeparableConv2D": {
      spatial();
      const size = pair(layer.kernel_size, `${path}.kernel_size`);
      const strides = pair(layer.strides, `${path}.strides`);
      const padding = oneOf(layer.padding, `${path}.padding`, PADDINGS);
      oneOf(layer.activation, `${path}.activation`, ACTIVATIONS);
      let filters;
      if (type === "Conv2D") {
        const kernel = array("kernel");
        expectShape(kernel, [...size, last, null], `the kernel size by the ${last} input channels by the filters`);
        filters = kernel.shape[3];
      } else {
        const kernel = array(type === "Conv2D" || type === "DepthwiseConv2D" ? "kernel" : "depthwise_kernel");
        expectShape(kernel, [...size, last, null], `the kernel size by the ${last} input channels by the depth multiplier`);
        filters = last * kernel.shape[3];
        if (type === "SeparableConv2D") {
          const pointwise = array("pointwise_kernel");
          expectShape(pointwise, [1, 1, filters, null], `1x1 by the ${filters} depthwise outputs by the filters`);
          filters = pointwise.shape[3];
        }
      }
      const bias = array("bias");
      if (bias) expectShape(bias, [filters], "one value per output channel");
      return [...window(size, strides, padding), filters];
    }
    case "Dense": {
      oneOf(layer.activation, `${path}.activation`, ACTIVATIONS);
      const kernel = array("kernel");
      expectShape(kernel, [last, null], `the ${last} input values by the units`);
      const units = kernel.shape[1];
      const bias = array("bias");
      if (bias) expectShape(bias, [units], "one value per unit");
      return [...shape.slice(0, -1), units];
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      spatial();
      const size = pair(layer.pool_size, `${path}.pool_size`);
      if (size[0] > shape[0] || size[1] > shape[1]) {
        throw wrong(`${path}.pool_size`, `a window that fits in its ${shape[0]}x${shape[1]} input`, size);
      }
      const strides = pair(layer.strides, `${path}.strides`);
      const padding = oneOf(layer.padding, `${path}.padding`, PADDINGS);
      return [...window(size, strides, padding), last];
    }
    case "GlobalMaxPooling2D":
    case "GlobalAveragePooling2D":
      spatial();
      oneOf(layer.keepdims, `${path}.keepdims`, [true, false]);
      return layer.keepdims ? [1, 1, last] : [last];
    case "BatchNormalization":
    case "Rescaling": {
      // The per-channel x * scale + offset, as numbers in the manifest (float32 values).
      const counts = type === "Rescaling" ? [1, last] : [last];
      for (const field of ["scale", "offset"]) {
        const values = layer[field];
        const ok = Array.isArray(values) && counts.includes(values.length) && values.every((v) => typeof v === "number" && Number.isFinite(Math.fround(v)));
        if (!ok) throw wrong(`${path}.${field}`, `${counts.join(" or ")} numbers finite in float32: ${type === "Rescaling" ? "one value, or " : ""}one per channel`, values);
      }
      if (layer.scale.length !== layer.offset.length) {
        throw wrong(`${path}.offset`, `${layer.scale.length} values, as many as the scale`, layer.offset);
      }
      return shape;
    }
    case "ZeroPadding2D":
    case "Padding2D": {
      spatial();
      const [[top, bottom], [left, right]] = edges(layer.padding, `${path}.padding`);
      if (type === "Padding2D") {
        const mode = oneOf(layer.mode, `${path}.mode`, PAD_MODES);
        // A mirror must not pass the far edge; a wrap may take the whole axis at most.
        const most = (size) => (mode === "reflect" ? size - 1 : size);
        if (Math.max(top, bottom) > most(shape[0]) || Math.max(left, right) > most(shape[1])) {
          throw wrong(`${path}.padding`, `a ${mode} border of at most ${most(shape[0])} rows and ${most(shape[1])} columns`, layer.padding);
        }
      }
      return [shape[0] + top + bottom, shape[1] + left + right, last];
    }
    case "Cropping2D": {
      spatial();
      const [[top, bottom], [left, right]] = edges(layer.cropping, `${path}.cropping`);
      if (top + bottom >= shape[0] || left + right >= shape[1]) {
        throw wrong(`${path}.cropping`, `less than the ${shape[0]}x${shape[1]} input`, layer.cropping);
      }
      return [shape[0] - top - bottom, shape[1] - left - right, last];
    }
    case "Activation":
      oneOf(layer.activation, `${path}.activation`, ACTIVATIONS);
      return shape;
    case "ReLU":
    case "LeakyReLU":
      // Keras takes none of them negative (and the page's cap assumes so).
      for (const field of type === "ReLU" ? ["negative_slope", "max_value", "threshold"] : ["negative_slope"]) {
        const value = finite(layer[field], `${path}.${field}`, field === "max_value");
        if (value !== null && value < 0) throw wrong(`${path}.${field}`, "a number of at least 0", value);
      }
      return shape;
    case "ELU":
      finite(layer.alpha, `${path}.alpha`);
      return shape;
    case "Add":
      shapes.forEach((s, k) => {
        if (!sameList(s, shape)) throw wrong(`${path}.inputs[${k}]`, `an input of shape ${show(shape)}, as the first`, s);
      });
      return shape;
    case "Concatenate":
      shapes.forEach((s, k) => {
        if (!sameList(s.slice(0, -1), shape.slice(0, -1))) {
          throw wrong(`${path}.inputs[${k}]`, `an input of shape ${show([...shape.slice(0, -1), "any"])}, as the first but its channels`, s);
        }
      });
      return [...shape.slice(0, -1), shapes.reduce((a, s) => a + s[s.length - 1], 0)];
    case "Softmax":
    case "Dropout":
    case "SpatialDropout2D":
      return shape;
    case "Flatten":
      return [product(shape)];
  }
}
