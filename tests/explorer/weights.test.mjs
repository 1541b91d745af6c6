// The weights file: SHA-256 against known digests and node:crypto, and the refusal of a changed file.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { MAGIC, parseWeights, sha256, WeightsError } from "../../cnnviz/explorer/static/weights.js";

const nodeDigest = (bytes) => createHash("sha256").update(bytes).digest("hex");

test("sha256 of the FIPS 180-4 examples", () => {
  assert.equal(sha256(new Uint8Array(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("sha256 agrees with node:crypto at every padding boundary", () => {
  for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 1000, 70000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) % 256);
    assert.equal(sha256(bytes), nodeDigest(bytes), `length ${n}`);
  }
});

function weightsFile(values, manifestChanges = {}) {
  const data = new Uint8Array(Float32Array.from(values).buffer);
  const manifest = {
    sha256: nodeDigest(data),
    data_bytes: data.length,
    models: [{ key: "m", layers: [{ name: "d", arrays: [{ name: "kernel", shape: [values.length], offset: 0, length: values.length }] }] }],
    ...manifestChanges,
  };
  let text = JSON.stringify(manifest);
  text += " ".repeat((4 - ((12 + text.length) % 4)) % 4);
  const bytes = new Uint8Array(12 + text.length + data.length);
  bytes.set(new TextEncoder().encode(MAGIC));
  new DataView(bytes.buffer).setUint32(8, text.length, true);
  bytes.set(new TextEncoder().encode(text), 12);
  bytes.set(data, 12 + text.length);
  return bytes;
}

test("a good file gives float32 views of its arrays", () => {
  const { manifest, arrays } = parseWeights(weightsFile([1.5, -2, 3]).buffer);
  assert.equal(manifest.models[0].key, "m");
  assert.deepEqual(Array.from(arrays[0][0].kernel), [1.5, -2, 3]);
});

test("a changed value is refused, with both checksums in the message", () => {
  const bytes = weightsFile([1.5, -2, 3]);
  bytes[bytes.length - 1] ^= 0x01;
  assert.throws(() => parseWeights(bytes.buffer), (error) => error instanceof WeightsError && /damaged or was changed/.test(error.message));
});

test("a truncated file and a file of something else are refused", () => {
  const bytes = weightsFile([1.5, -2, 3]);
  assert.throws(() => parseWeights(bytes.slice(0, bytes.length - 4).buffer), WeightsError);
  assert.throws(() => parseWeights(new TextEncoder().encode("<html>not found</html>").buffer), /not a cnnviz weights file/);
});
