// Writing an export's weight files in Node, as cnnviz.explorer.export writes them, for the
// tests of weights.js: weights.bin (magic, SHA-256 of the rest, manifest length, manifest)
// and each model's own file (its float32 or float16 weights as byte planes, raw DEFLATE).
import { createHash } from "node:crypto";
import { deflateRawSync } from "node:zlib";

import { HEADER_BYTES, MAGIC, modelArrays } from "../../cnnviz/explorer/static/weights.js";

export const digest = (bytes) => createHash("sha256").update(bytes).digest();

/** A seeded generator of numbers in [0, 1) (mulberry32): the same every run. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The byte planes of `data` (bytes, values of `width` bytes): every value's first byte, then second, ... */
export function planes(data, width = 4) {
  const count = data.length / width;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < count; i++) for (let k = 0; k < width; k++) out[k * count + i] = data[width * i + k];
  return out;
}

/** A model's weights file: its data's byte planes, deflated. */
export const modelFile = (data, width = 4) => new Uint8Array(deflateRawSync(planes(data, width), { level: 9 }));

/**
 * Fill model `m`'s "weights" field of `manifest` (in place) for `data` (its weights as
 * bytes of `dtype`: float32, or float16 bit patterns), as the writer does; returns the
 * model's file.
 */
export function describe(manifest, m, data, dtype = "float32") {
  const width = dtype === "float16" ? 2 : 4;
  const file = modelFile(data, width);
  manifest.models[m].weights = { file: `weights-${m}.bin`, bytes: file.length, sha256: digest(file).toString("hex"), values: data.length / width, dtype };
  return file;
}

/** The bytes of weights.bin for `manifest` (or for `text`, as given). */
export function weightsFile(manifest, { text = JSON.stringify(manifest) } = {}) {
  const json = new TextEncoder().encode(text);
  const bytes = new Uint8Array(HEADER_BYTES + json.length);
  bytes.set(new TextEncoder().encode(MAGIC));
  new DataView(bytes.buffer).setUint32(40, json.length, true);
  bytes.set(json, HEADER_BYTES);
  bytes.set(digest(bytes.subarray(40)), 8);
  return bytes;
}

/** Model `m`'s arrays from its data (as modelArrays reads them once inflated). */
export const arraysOf = (manifest, m, data) => modelArrays(manifest, m, planes(data));
