// Run an exported page's models outside the browser, for tests/test_explorer.py:
//   node tests/explorer/forward.mjs DIRECTORY PIXELS.f32            every layer's output
//   node tests/explorer/forward.mjs DIRECTORY PIXELS.f32 saliency K  each image's saliency of class K
// PIXELS.f32 holds N images of the models' input size as little-endian float32 values;
// prints JSON {model key: {layer name: [N x values]}} or {model key: [N x H*W values]},
// the same arithmetic the page runs.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { forward, saliency } from "../../cnnviz/explorer/static/layers.js";
import { parseWeights, readModel } from "../../cnnviz/explorer/static/weights.js";

const [directory, pixelsPath, mode, target] = process.argv.slice(2);
const read = (name) => {
  const file = readFileSync(join(directory, name));
  return file.buffer.slice(file.byteOffset, file.byteOffset + file.length);
};
const { manifest } = parseWeights(read("weights.bin"));
const arrays = await Promise.all(manifest.models.map((model, m) => readModel(manifest, m, read(model.weights.file))));
const raw = readFileSync(pixelsPath);
const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
// Keyed by model keys and layer names, any strings ("__proto__" too): no prototype.
const result = Object.create(null);
manifest.models.forEach((model, m) => {
  const size = model.input_shape.reduce((a, b) => a * b, 1);
  const layers = Object.create(null);
  const maps = [];
  for (let start = 0; start < pixels.length; start += size) {
    const image = pixels.subarray(start, start + size);
    if (mode === "saliency") {
      maps.push(Array.from(saliency(model, arrays[m], image, Number(target))));
      continue;
    }
    const { outputs } = forward(model, arrays[m], image);
    for (const [name, values] of Object.entries(outputs)) (layers[name] ??= []).push(Array.from(values));
  }
  result[model.key] = mode === "saliency" ? maps : layers;
});
process.stdout.write(JSON.stringify(result));
