// Run an exported page's models outside the browser, for tests/test_explorer.py:
//   node tests/explorer/forward.mjs DIRECTORY PIXELS.f32
// PIXELS.f32 holds N images of 784 little-endian float32 values; prints JSON
// {model key: {layer name: [N x values]}}, the same arithmetic the page runs.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { forward } from "../../cnnviz/explorer/static/layers.js";
import { parseWeights } from "../../cnnviz/explorer/static/weights.js";

const [directory, pixelsPath] = process.argv.slice(2);
const file = readFileSync(join(directory, "weights.bin"));
const { manifest, arrays } = parseWeights(file.buffer.slice(file.byteOffset, file.byteOffset + file.length));
const raw = readFileSync(pixelsPath);
const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
// Keyed by model keys and layer names, any strings ("__proto__" too): no prototype.
const result = Object.create(null);
manifest.models.forEach((model, m) => {
  const layers = Object.create(null);
  for (let start = 0; start < pixels.length; start += 784) {
    const { outputs } = forward(model, arrays[m], pixels.subarray(start, start + 784));
    for (const [name, values] of Object.entries(outputs)) (layers[name] ??= []).push(Array.from(values));
  }
  result[model.key] = layers;
});
process.stdout.write(JSON.stringify(result));
