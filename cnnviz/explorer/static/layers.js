// The arithmetic of the explorer: each layer as a plain function on Float32Arrays.
// Shapes are [height, width, channels] (Keras' channels-last order) or [n] for
// flat vectors; every output is a new Float32Array. No DOM here: this module
// runs unchanged under `node --test` (tests/explorer/layers.test.mjs).

/** Output length and padding before, along one axis, as TensorFlow computes them. */
export function axisPlan(size, kernel, stride, padding) {
  if (padding === "same") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + kernel - size, 0);
    // TensorFlow puts the smaller half of the padding before (top, left).
    return { out, before: Math.floor(total / 2) };
  }
  if (padding !== "valid") throw new Error(`padding must be "valid" or "same"; got ${padding}`);
  return { out: Math.floor((size - kernel) / stride) + 1, before: 0 };
}

/** A 2-D convolution; kernel is Keras' (kh, kw, in, out) flattened in C order. */
export function conv2d(input, shape, kernel, kernelShape, bias, strides, padding) {
  const [h, w, cin] = shape;
  const [kh, kw, kin, cout] = kernelShape;
  if (kin !== cin) throw new Error(`kernel takes ${kin} channels; input has ${cin}`);
  const rows = axisPlan(h, kh, strides[0], padding);
  const cols = axisPlan(w, kw, strides[1], padding);
  const out = new Float32Array(rows.out * cols.out * cout);
  const sums = new Float64Array(cout);
  for (let r = 0; r < rows.out; r++) {
    const y0 = r * strides[0] - rows.before;
    // Only the kernel rows and columns that fall inside the input: zero padding adds nothing.
    const i0 = Math.max(0, -y0);
    const i1 = Math.min(kh, h - y0);
    for (let c = 0; c < cols.out; c++) {
      const x0 = c * strides[1] - cols.before;
      const j0 = Math.max(0, -x0);
      const j1 = Math.min(kw, w - x0);
      for (let o = 0; o < cout; o++) sums[o] = bias ? bias[o] : 0;
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          const at = ((y0 + i) * w + x0 + j) * cin;
          const k0 = (i * kw + j) * cin * cout;
          for (let ch = 0; ch < cin; ch++) {
            const v = input[at + ch];
            if (v === 0) continue; // ReLU outputs and blank pixels are mostly zeros
            const k = k0 + ch * cout;
            for (let o = 0; o < cout; o++) sums[o] += v * kernel[k + o];
          }
        }
      }
      const base = (r * cols.out + c) * cout;
      for (let o = 0; o < cout; o++) out[base + o] = sums[o];
    }
  }
  return { output: out, shape: [rows.out, cols.out, cout] };
}

/** Max or average pooling; "same" padding ignores padded cells (TensorFlow's rule). */
export function pool2d(kind, input, shape, poolSize, strides, padding) {
  const [h, w, ch] = shape;
  const rows = axisPlan(h, poolSize[0], strides[0], padding);
  const cols = axisPlan(w, poolSize[1], strides[1], padding);
  const out = new Float32Array(rows.out * cols.out * ch);
  for (let r = 0; r < rows.out; r++) {
    for (let c = 0; c < cols.out; c++) {
      for (let k = 0; k < ch; k++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let i = 0; i < poolSize[0]; i++) {
          const y = r * strides[0] - rows.before + i;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < poolSize[1]; j++) {
            const x = c * strides[1] - cols.before + j;
            if (x < 0 || x >= w) continue;
            const v = input[(y * w + x) * ch + k];
            if (v > best) best = v;
            sum += v;
            count++;
          }
        }
        out[(r * cols.out + c) * ch + k] = kind === "max" ? best : sum / count;
      }
    }
  }
  return { output: out, shape: [rows.out, cols.out, ch] };
}

/** A dense layer over the last axis; kernel is (in, out) in C order. */
export function dense(input, shape, kernel, kernelShape, bias) {
  const [nin, nout] = kernelShape;
  const n = shape[shape.length - 1];
  if (n !== nin) throw new Error(`kernel takes ${nin} values; input has ${n}`);
  const rows = input.length / nin;
  const out = new Float32Array(rows * nout);
  const sums = new Float64Array(nout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nout; o++) sums[o] = bias ? bias[o] : 0;
    for (let i = 0; i < nin; i++) {
      const v = input[r * nin + i];
      if (v === 0) continue;
      const k = i * nout;
      for (let o = 0; o < nout; o++) sums[o] += v * kernel[k + o];
    }
    for (let o = 0; o < nout; o++) out[r * nout + o] = sums[o];
  }
  return { output: out, shape: [...shape.slice(0, -1), nout] };
}

/** Softmax over the last axis (of `last` values), shifted by the maximum for stability. */
export function softmax(input, last) {
  const out = new Float32Array(input.length);
  for (let start = 0; start < input.length; start += last) {
    let max = -Infinity;
    for (let i = 0; i < last; i++) max = Math.max(max, input[start + i]);
    let sum = 0;
    for (let i = 0; i < last; i++) sum += Math.exp(input[start + i] - max);
    for (let i = 0; i < last; i++) out[start + i] = Math.exp(input[start + i] - max) / sum;
  }
  return out;
}

/** Keras' ReLU layer: max_value caps, threshold shifts, negative_slope leaks. */
export function relu(input, negativeSlope = 0, maxValue = null, threshold = 0) {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = input[i];
    let y = v >= threshold ? v : negativeSlope * (v - threshold);
    if (maxValue !== null && y > maxValue) y = maxValue;
    out[i] = y;
  }
  return out;
}

/** An activation by Keras' name: linear, relu, sigmoid, tanh, softmax (last axis). */
export function activate(name, input, shape) {
  switch (name) {
    case "linear":
      return input;
    case "relu":
      return relu(input);
    case "sigmoid":
      return input.map((v) => 1 / (1 + Math.exp(-v)));
    case "tanh":
      return input.map(Math.tanh);
    case "softmax":
      return softmax(input, shape[shape.length - 1]);
    default:
      throw new Error(`unknown activation ${name}`);
  }
}

/** One layer of a manifest entry on `input` of `shape`; `arrays` maps "kernel"/"bias" to data. */
export function runLayer(layer, input, shape, arrays) {
  switch (layer.type) {
    case "Conv2D": {
      const k = layer.arrays.find((a) => a.name === "kernel");
      const r = conv2d(input, shape, arrays.kernel, k.shape, arrays.bias, layer.strides, layer.padding);
      return { output: activate(layer.activation, r.output, r.shape), shape: r.shape };
    }
    case "Dense": {
      const k = layer.arrays.find((a) => a.name === "kernel");
      const r = dense(input, shape, arrays.kernel, k.shape, arrays.bias);
      return { output: activate(layer.activation, r.output, r.shape), shape: r.shape };
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      const kind = layer.type === "MaxPooling2D" ? "max" : "average";
      return pool2d(kind, input, shape, layer.pool_size, layer.strides, layer.padding);
    }
    case "Activation":
      return { output: activate(layer.activation, input, shape), shape };
    case "ReLU":
      return {
        output: relu(input, layer.negative_slope, layer.max_value, layer.threshold),
        shape,
      };
    case "Softmax":
      return { output: softmax(input, shape[shape.length - 1]), shape };
    case "Flatten":
      // Channels-last data is already in Keras' flattened order.
      return { output: input, shape: [input.length] };
    default:
      throw new Error(`layer ${layer.name}: type ${layer.type} is not supported`);
  }
}

/**
 * Run a model of the manifest on `pixels` (Float32Array, 28x28x1 row-major).
 * `arrays[i]` holds layer i's arrays by name. Returns {layer name: output} and shapes.
 */
export function forward(model, arrays, pixels) {
  let x = pixels;
  let shape = model.input_shape;
  const size = shape.reduce((a, b) => a * b, 1);
  if (x.length !== size) {
    throw new Error(`input must have ${size} values (${shape.join("x")}); got ${x.length}`);
  }
  // Keyed by layer names, which may be any string: without a prototype, "__proto__" or
  // "constructor" is an entry like any other, not Object.prototype's.
  const outputs = Object.create(null);
  const shapes = Object.create(null);
  model.layers.forEach((layer, i) => {
    const r = runLayer(layer, x, shape, arrays[i]);
    x = r.output;
    shape = r.shape;
    outputs[layer.name] = x;
    shapes[layer.name] = shape;
  });
  return { outputs, shapes };
}

/**
 * One output unit of a convolution worked out: the window it sees of the
 * input (zero where padded), the kernel, their products, the sum and the bias.
 * `row`, `col`, `channel` index the output; arrays are [kh][kw][in] in C order.
 */
export function convUnit(input, shape, kernel, kernelShape, bias, strides, padding, row, col, channel) {
  const [h, w, cin] = shape;
  const [kh, kw, , cout] = kernelShape;
  const rows = axisPlan(h, kh, strides[0], padding);
  const cols = axisPlan(w, kw, strides[1], padding);
  const top = row * strides[0] - rows.before;
  const left = col * strides[1] - cols.before;
  const window = new Float32Array(kh * kw * cin);
  const weights = new Float32Array(kh * kw * cin);
  const padded = new Uint8Array(kh * kw);
  let sum = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const y = top + i;
      const x = left + j;
      const inside = y >= 0 && y < h && x >= 0 && x < w;
      padded[i * kw + j] = inside ? 0 : 1;
      for (let ch = 0; ch < cin; ch++) {
        const at = (i * kw + j) * cin + ch;
        window[at] = inside ? input[(y * w + x) * cin + ch] : 0;
        weights[at] = kernel[((i * kw + j) * cin + ch) * cout + channel];
        sum += window[at] * weights[at];
      }
    }
  }
  const b = bias ? bias[channel] : 0;
  return { top, left, window, weights, padded, sum, bias: b, value: sum + b };
}

/** One output unit of a pooling: its window (NaN where padded) and the winner's index. */
export function poolUnit(input, shape, poolSize, strides, padding, row, col, channel) {
  const [h, w, ch] = shape;
  const rows = axisPlan(h, poolSize[0], strides[0], padding);
  const cols = axisPlan(w, poolSize[1], strides[1], padding);
  const top = row * strides[0] - rows.before;
  const left = col * strides[1] - cols.before;
  const window = new Float32Array(poolSize[0] * poolSize[1]);
  let winner = -1;
  for (let i = 0; i < poolSize[0]; i++) {
    for (let j = 0; j < poolSize[1]; j++) {
      const y = top + i;
      const x = left + j;
      const at = i * poolSize[1] + j;
      window[at] = y >= 0 && y < h && x >= 0 && x < w ? input[(y * w + x) * ch + channel] : NaN;
      if (!Number.isNaN(window[at]) && (winner < 0 || window[at] > window[winner])) winner = at;
    }
  }
  return { top, left, window, winner };
}

/**
 * The box of input pixels that output unit (row, col) of layer `index` sees,
 * walking back through the spatial layers before it: [top, left, bottom, right],
 * inclusive, clipped to the input.
 */
export function receptiveBox(model, index, row, col) {
  let [top, left, bottom, right] = [row, col, row, col];
  let shapes = [model.input_shape];
  for (const layer of model.layers) shapes.push(layer.output_shape);
  for (let i = index; i >= 0; i--) {
    const layer = model.layers[i];
    const size = layer.kernel_size ?? layer.pool_size;
    if (!size) continue;
    const [h, w] = shapes[i];
    const rp = axisPlan(h, size[0], layer.strides[0], layer.padding);
    const cp = axisPlan(w, size[1], layer.strides[1], layer.padding);
    top = top * layer.strides[0] - rp.before;
    bottom = bottom * layer.strides[0] - rp.before + size[0] - 1;
    left = left * layer.strides[1] - cp.before;
    right = right * layer.strides[1] - cp.before + size[1] - 1;
  }
  const [h, w] = model.input_shape;
  return [Math.max(top, 0), Math.max(left, 0), Math.min(bottom, h - 1), Math.min(right, w - 1)];
}
