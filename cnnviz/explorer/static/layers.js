// The arithmetic of the explorer: each layer as a plain function on Float32Arrays,
// forward and backward (the gradient of its output back to its input, for saliency).
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

/**
 * The windows of a convolution of kernel `size` over an input of `h` x `w`:
 * {rows, cols} of the output, and each(visit), which calls
 * visit(cell, y0, x0, i0, i1, j0, j1) for every output cell (r * cols + c): the
 * window's top-left in the input (y0, x0) and the kernel rows [i0, i1) and columns
 * [j0, j1) that fall inside the input (zero padding adds nothing).
 */
export function windows([h, w], [kh, kw], strides, padding) {
  const rows = axisPlan(h, kh, strides[0], padding);
  const cols = axisPlan(w, kw, strides[1], padding);
  return {
    rows: rows.out,
    cols: cols.out,
    each(visit) {
      for (let r = 0; r < rows.out; r++) {
        const y0 = r * strides[0] - rows.before;
        const i0 = Math.max(0, -y0);
        const i1 = Math.min(kh, h - y0);
        for (let c = 0; c < cols.out; c++) {
          const x0 = c * strides[1] - cols.before;
          visit(r * cols.out + c, y0, x0, i0, i1, Math.max(0, -x0), Math.min(kw, w - x0));
        }
      }
    },
  };
}

/**
 * The kernel taps through which each input position along one axis reaches an output:
 * for input position p, taps first[p], first[p] + stride, ... up to last[p], the tap t
 * reaching output (p + before - t) / stride.
 */
function reach(size, plan, kernel, stride) {
  const first = new Int32Array(size);
  const last = new Int32Array(size);
  for (let p = 0; p < size; p++) {
    const q = p + plan.before; // = output * stride + tap
    const t = Math.max(0, q - (plan.out - 1) * stride);
    first[p] = t + ((((q - t) % stride) + stride) % stride);
    last[p] = Math.min(kernel - 1, q);
  }
  return { first, last };
}

/**
 * A 2-D convolution; kernel is Keras' (kh, kw, in, out) flattened in C order.
 *
 * Each non-zero input value adds its products to the outputs it reaches (most inputs
 * are zeros: blank pixels, ReLU outputs), in float64. Every output receives its terms
 * in the order of a window's rows, columns and channels, after its bias: the sums of
 * a window visited tap by tap, bit for bit.
 */
export function conv2d(input, shape, kernel, kernelShape, bias, strides, padding) {
  const [h, w, cin] = shape;
  const [kh, kw, kin, cout] = kernelShape;
  if (kin !== cin) throw new Error(`kernel takes ${kin} channels; input has ${cin}`);
  const [sy, sx] = strides;
  const rowPlan = axisPlan(h, kh, sy, padding);
  const colPlan = axisPlan(w, kw, sx, padding);
  const cols = colPlan.out;
  const sums = new Float64Array(rowPlan.out * cols * cout);
  if (bias) for (let at = 0; at < sums.length; at += cout) for (let o = 0; o < cout; o++) sums[at + o] = bias[o];
  const down = reach(h, rowPlan, kh, sy);
  const across = reach(w, colPlan, kw, sx);
  for (let y = 0; y < h; y++) {
    const qy = y + rowPlan.before;
    for (let x = 0; x < w; x++) {
      const qx = x + colPlan.before;
      const at = (y * w + x) * cin;
      const i0 = down.first[y];
      const i1 = down.last[y];
      const j0 = across.first[x];
      const j1 = across.last[x];
      // Indices stepped, not computed: one tap further along a row or column is one
      // output back (first's taps are a stride's multiple from q, so these are exact).
      const oFirst = (((qy - i0) / sy) * cols + (qx - j0) / sx) * cout;
      const kRow = sy * kw * cin * cout;
      const kCol = sx * cin * cout;
      const oRow = cols * cout;
      for (let ch = 0; ch < cin; ch++) {
        const v = input[at + ch];
        if (v === 0) continue;
        let kStart = ((i0 * kw + j0) * cin + ch) * cout;
        let oStart = oFirst;
        for (let i = i0; i <= i1; i += sy, kStart += kRow, oStart -= oRow) {
          let k = kStart;
          let o0 = oStart;
          for (let j = j0; j <= j1; j += sx, k += kCol, o0 -= cout) {
            let o = 0;
            for (; o + 3 < cout; o += 4) {
              // Four at a time: the loop's own work is most of a short one's time.
              sums[o0 + o] += v * kernel[k + o];
              sums[o0 + o + 1] += v * kernel[k + o + 1];
              sums[o0 + o + 2] += v * kernel[k + o + 2];
              sums[o0 + o + 3] += v * kernel[k + o + 3];
            }
            for (; o < cout; o++) sums[o0 + o] += v * kernel[k + o];
          }
        }
      }
    }
  }
  return { output: Float32Array.from(sums), shape: [rowPlan.out, cols, cout] };
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

/** Depthwise convolution: each input channel with its own (kh, kw) kernels, `multiplier` per channel. */
export function depthwiseConv2d(input, shape, kernel, kernelShape, bias, strides, padding) {
  const [h, w, cin] = shape;
  const [kh, kw, kin, multiplier] = kernelShape;
  if (kin !== cin) throw new Error(`kernel takes ${kin} channels; input has ${cin}`);
  const cout = cin * multiplier;
  const plan = windows([h, w], [kh, kw], strides, padding);
  const out = new Float32Array(plan.rows * plan.cols * cout);
  const sums = new Float64Array(cout);
  plan.each((cell, y0, x0, i0, i1, j0, j1) => {
    for (let o = 0; o < cout; o++) sums[o] = bias ? bias[o] : 0;
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) {
        const at = ((y0 + i) * w + x0 + j) * cin;
        const k0 = (i * kw + j) * cout; // (kh, kw, in, multiplier): in * multiplier per tap
        for (let o = 0; o < cout; o++) sums[o] += input[at + Math.floor(o / multiplier)] * kernel[k0 + o];
      }
    }
    out.set(sums, cell * cout);
  });
  return { output: out, shape: [plan.rows, plan.cols, cout] };
}

/** Global average or max pooling over rows and columns: one value per channel. */
export function globalPool(kind, input, shape) {
  const [h, w, ch] = shape;
  const out = new Float32Array(ch);
  for (let k = 0; k < ch; k++) {
    let best = -Infinity;
    let sum = 0;
    for (let p = 0; p < h * w; p++) {
      const v = input[p * ch + k];
      if (v > best) best = v;
      sum += v;
    }
    out[k] = kind === "max" ? best : sum / (h * w);
  }
  return out;
}

/**
 * Where padded row (or column) `p` reads from, along an axis of `size` with `before`
 * added first: an index of the input, or -1 for a zero. "reflect" mirrors without
 * repeating the edge (NumPy's reflect), "circular" wraps round.
 */
export function padSource(p, size, before, mode) {
  const i = p - before;
  if (i >= 0 && i < size) return i;
  if (mode === "zero") return -1;
  if (mode === "circular") return ((i % size) + size) % size;
  return i < 0 ? -i : 2 * (size - 1) - i; // reflect: Padding2D keeps the border under the size
}

/**
 * The cells of a padded image (rows by [top, bottom], columns by [left, right]) that copy
 * an input pixel: visit(from, to) with both pixel indices (not zeros, which copy nothing).
 * Returns the padded [rows, columns].
 */
function eachCopy([h, w], [[top, bottom], [left, right]], mode, visit) {
  const oh = h + top + bottom;
  const ow = w + left + right;
  for (let r = 0; r < oh; r++) {
    const y = padSource(r, h, top, mode);
    if (y < 0) continue;
    for (let c = 0; c < ow; c++) {
      const x = padSource(c, w, left, mode);
      if (x >= 0) visit(y * w + x, r * ow + c);
    }
  }
  return [oh, ow];
}

/** Pad rows by [top, bottom] and columns by [left, right]: zeros, a mirror or a wrap. */
export function pad2d(input, shape, edges, mode = "zero") {
  const [h, w, ch] = shape;
  const [[top, bottom], [left, right]] = edges;
  const out = new Float32Array((h + top + bottom) * (w + left + right) * ch);
  const [oh, ow] = eachCopy([h, w], edges, mode, (from, to) => out.set(input.subarray(from * ch, (from + 1) * ch), to * ch));
  return { output: out, shape: [oh, ow, ch] };
}

/** Remove rows [top, bottom] and columns [left, right] from the edges. */
export function crop2d(input, shape, [[top, bottom], [left, right]]) {
  const [h, w, ch] = shape;
  const oh = h - top - bottom;
  const ow = w - left - right;
  const out = new Float32Array(oh * ow * ch);
  for (let r = 0; r < oh; r++) {
    const from = ((r + top) * w + left) * ch;
    out.set(input.subarray(from, from + ow * ch), r * ow * ch);
  }
  return { output: out, shape: [oh, ow, ch] };
}

/** x * scale + offset, per channel (the last axis): batch normalization folded, rescaling. */
export function channelAffine(input, scale, offset) {
  const n = scale.length;
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input[i] * scale[i % n] + offset[i % n];
  return out;
}

/** Join inputs along the last axis; `shapes` agree on every axis but the last. */
export function concatenate(inputs, shapes) {
  const lasts = shapes.map((s) => s[s.length - 1]);
  const total = lasts.reduce((a, b) => a + b, 0);
  const rows = inputs[0].length / lasts[0];
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let at = r * total;
    inputs.forEach((x, k) => {
      out.set(x.subarray(r * lasts[k], (r + 1) * lasts[k]), at);
      at += lasts[k];
    });
  }
  return { output: out, shape: [...shapes[0].slice(0, -1), total] };
}

/**
 * Which of a concatenation's inputs (of `shapes`) holds its output channel `channel`, and
 * as which of that input's channels: [input, channel].
 */
export function concatSource(shapes, channel) {
  let k = 0;
  for (; k < shapes.length && channel >= shapes[k].at(-1); k++) channel -= shapes[k].at(-1);
  if (k === shapes.length || channel < 0) throw new RangeError("channel outside the concatenation");
  return [k, channel];
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

/** Keras' ReLU layer: max_value caps, threshold shifts (strictly above it passes), negative_slope leaks. */
export function relu(input, negativeSlope = 0, maxValue = null, threshold = 0) {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = input[i];
    let y = v > threshold ? v : negativeSlope * (v - threshold);
    if (maxValue !== null && y > maxValue) y = maxValue;
    out[i] = y;
  }
  return out;
}

/**
 * The derivative of Keras' ReLU layer at `x`, as TensorFlow takes it where the pieces
 * meet: the operations Keras builds it from (leaky_relu; or x * (x > threshold), relu
 * or relu6, a clip to the cap, minus the slope times relu(threshold - x)) each have
 * their own rule at the corners, and cnnviz.gradients follows them.
 */
export function reluSlope(x, negativeSlope = 0, maxValue = null, threshold = 0) {
  if (negativeSlope !== 0 && maxValue === null && threshold === 0) return x > 0 ? 1 : negativeSlope;
  let positive;
  if (threshold !== 0) positive = x > threshold && (maxValue === null || x <= maxValue) ? 1 : 0;
  else if (maxValue === 6) positive = x > 0 && x < 6 ? 1 : 0; // relu6, then no clip
  else positive = x > 0 && (maxValue === null || x <= maxValue) ? 1 : 0;
  return positive + (negativeSlope !== 0 && x < threshold ? negativeSlope : 0);
}

/** The error function, to 1.2e-7 relative (Numerical Recipes' erfc, a Chebyshev fit). */
export function erf(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const softplus = (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const LEAKY_SLOPE = 0.2; // keras.activations.leaky_relu's default

/**
 * Keras' activations by serialized name, each as [f(x), f'(x)] (the derivative where
 * TensorFlow takes it at a kink: ReLU's is 0 at 0, SELU's the positive side's scale).
 * Softmax works on a whole axis: see `activate`.
 */
export const ACTIVATIONS = {
  linear: [(x) => x, () => 1],
  relu: [(x) => (x > 0 ? x : 0), (x) => (x > 0 ? 1 : 0)],
  relu6: [(x) => Math.min(Math.max(x, 0), 6), (x) => (x > 0 && x < 6 ? 1 : 0)],
  leaky_relu: [(x) => (x > 0 ? x : LEAKY_SLOPE * x), (x) => (x > 0 ? 1 : LEAKY_SLOPE)],
  elu: [(x) => (x > 0 ? x : Math.expm1(x)), (x) => (x > 0 ? 1 : Math.exp(x))],
  selu: [(x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)), (x) => SELU_SCALE * (x >= 0 ? 1 : SELU_ALPHA * Math.exp(x))],
  gelu: [(x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI)],
  silu: [(x) => x * sigmoid(x), (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x)))],
  sigmoid: [sigmoid, (x) => sigmoid(x) * (1 - sigmoid(x))],
  hard_sigmoid: [(x) => Math.min(Math.max(x + 3, 0), 6) / 6, (x) => (x > -3 && x < 3 ? 1 / 6 : 0)],
  hard_silu: [(x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6, (x) => (x <= -3 ? 0 : x >= 3 ? 1 : (2 * x + 3) / 6)],
  tanh: [Math.tanh, (x) => 1 - Math.tanh(x) ** 2],
  softplus: [softplus, sigmoid],
  softsign: [(x) => x / (1 + Math.abs(x)), (x) => 1 / (1 + Math.abs(x)) ** 2],
  mish: [
    (x) => x * Math.tanh(softplus(x)),
    (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
  ],
  softmax: null,
};

/** An activation by Keras' name (ACTIVATIONS' keys); softmax over the last axis of `shape`. */
export function activate(name, input, shape) {
  if (name === "linear") return input;
  if (name === "softmax") return softmax(input, shape[shape.length - 1]);
  const pair = ACTIVATIONS[name];
  if (!pair) throw new Error(`unknown activation ${name}`);
  const f = pair[0];
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = f(input[i]);
  return out;
}

/** The gradient through an activation: `grad` of its output to its input `pre` (output `y`). */
export function activateBackward(name, pre, y, grad, shape) {
  if (name === "linear") return grad;
  if (name === "softmax") return softmaxBackward(y, grad, shape[shape.length - 1]);
  const d = ACTIVATIONS[name][1];
  const out = new Float32Array(grad.length);
  for (let i = 0; i < grad.length; i++) if (grad[i] !== 0) out[i] = grad[i] * d(pre[i]);
  return out;
}

/** Softmax's gradient, per row of `last` values: y * (g - sum(g * y)). */
export function softmaxBackward(y, grad, last) {
  const out = new Float32Array(grad.length);
  for (let start = 0; start < grad.length; start += last) {
    let dot = 0;
    for (let i = 0; i < last; i++) dot += grad[start + i] * y[start + i];
    for (let i = 0; i < last; i++) out[start + i] = y[start + i] * (grad[start + i] - dot);
  }
  return out;
}

// -- backward: the gradient of a layer's output back to its input -------------------------
// Each takes the gradient of the output (same layout as the output) and returns that
// of the input; only what saliency needs (no weight gradients).

/** A convolution's gradient to its input: each output's gradient spread back over its window. */
export function conv2dBackward(grad, shape, kernel, kernelShape, strides, padding) {
  const [h, w, cin] = shape;
  const [kh, kw, , cout] = kernelShape;
  const out = new Float64Array(h * w * cin);
  windows([h, w], [kh, kw], strides, padding).each((cell, y0, x0, i0, i1, j0, j1) => {
    const base = cell * cout;
    let any = false;
    for (let o = 0; o < cout; o++) if (grad[base + o] !== 0) any = true;
    if (!any) return; // behind a ReLU, most of the gradient is zeros
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) {
        const at = ((y0 + i) * w + x0 + j) * cin;
        const k0 = (i * kw + j) * cin * cout;
        for (let ch = 0; ch < cin; ch++) {
          const k = k0 + ch * cout;
          let sum = 0;
          for (let o = 0; o < cout; o++) sum += grad[base + o] * kernel[k + o];
          out[at + ch] += sum;
        }
      }
    }
  });
  return Float32Array.from(out);
}

/** A depthwise convolution's gradient to its input. */
export function depthwiseConv2dBackward(grad, shape, kernel, kernelShape, strides, padding) {
  const [h, w, cin] = shape;
  const [kh, kw, , multiplier] = kernelShape;
  const cout = cin * multiplier;
  const out = new Float64Array(h * w * cin);
  windows([h, w], [kh, kw], strides, padding).each((cell, y0, x0, i0, i1, j0, j1) => {
    const base = cell * cout;
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) {
        const at = ((y0 + i) * w + x0 + j) * cin;
        const k0 = (i * kw + j) * cout;
        for (let o = 0; o < cout; o++) out[at + Math.floor(o / multiplier)] += grad[base + o] * kernel[k0 + o];
      }
    }
  });
  return Float32Array.from(out);
}

/**
 * Pooling's gradient to its input. Max: each output's gradient goes to its window's
 * first largest value (row by row, as TensorFlow's CPU kernel picks it); average: shared
 * equally by the window's cells inside the input.
 */
export function pool2dBackward(kind, input, shape, grad, poolSize, strides, padding) {
  const [h, w, ch] = shape;
  const rows = axisPlan(h, poolSize[0], strides[0], padding);
  const cols = axisPlan(w, poolSize[1], strides[1], padding);
  const out = new Float64Array(h * w * ch);
  for (let r = 0; r < rows.out; r++) {
    for (let c = 0; c < cols.out; c++) {
      for (let k = 0; k < ch; k++) {
        const g = grad[(r * cols.out + c) * ch + k];
        if (g === 0) continue;
        let best = -1;
        let count = 0;
        const cells = [];
        for (let i = 0; i < poolSize[0]; i++) {
          const y = r * strides[0] - rows.before + i;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < poolSize[1]; j++) {
            const x = c * strides[1] - cols.before + j;
            if (x < 0 || x >= w) continue;
            const at = (y * w + x) * ch + k;
            if (best < 0 || input[at] > input[best]) best = at;
            cells.push(at);
            count++;
          }
        }
        if (kind === "max") out[best] += g;
        else for (const at of cells) out[at] += g / count;
      }
    }
  }
  return Float32Array.from(out);
}

/** Global pooling's gradient: average shares it out; max splits it among the ties for largest. */
export function globalPoolBackward(kind, input, shape, output, grad) {
  const [h, w, ch] = shape;
  const out = new Float32Array(h * w * ch);
  for (let k = 0; k < ch; k++) {
    let ties = 0;
    if (kind === "max") for (let p = 0; p < h * w; p++) if (input[p * ch + k] === output[k]) ties++;
    for (let p = 0; p < h * w; p++) {
      if (kind === "max") out[p * ch + k] = input[p * ch + k] === output[k] ? grad[k] / ties : 0;
      else out[p * ch + k] = grad[k] / (h * w);
    }
  }
  return out;
}

/** Padding's gradient: each padded cell's gradient goes back to the cell it copies (none for zeros). */
export function pad2dBackward(grad, shape, edges, mode = "zero") {
  const [h, w, ch] = shape;
  const out = new Float32Array(h * w * ch);
  eachCopy([h, w], edges, mode, (from, to) => {
    for (let k = 0; k < ch; k++) out[from * ch + k] += grad[to * ch + k];
  });
  return out;
}

/** Cropping's gradient: the output's gradient in place, zeros on the cropped edges. */
export function crop2dBackward(grad, shape, [[top], [left]], outShape) {
  const [, w, ch] = shape;
  const [oh, ow] = outShape;
  const out = new Float32Array(shape[0] * w * ch);
  for (let r = 0; r < oh; r++) out.set(grad.subarray(r * ow * ch, (r + 1) * ow * ch), ((r + top) * w + left) * ch);
  return out;
}

/** A dense layer's gradient to its input: the output's gradient times the kernel's transpose. */
export function denseBackward(grad, shape, kernel, kernelShape) {
  const [nin, nout] = kernelShape;
  const rows = grad.length / nout;
  const out = new Float32Array(rows * nin);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < nin; i++) {
      let sum = 0;
      const k = i * nout;
      for (let o = 0; o < nout; o++) sum += grad[r * nout + o] * kernel[k + o];
      out[r * nin + i] = sum;
    }
  }
  return out;
}

// -- layers of a manifest: forward and backward by type ----------------------------------

const kernelOf = (layer, name = "kernel") => layer.arrays.find((a) => a.name === name).shape;
const IDENTITY = new Set(["Flatten", "Dropout", "SpatialDropout2D"]);

/**
 * The linear part of a layer that has an activation (Conv2D, Dense, DepthwiseConv2D,
 * SeparableConv2D), before it: {output, shape}.
 */
function linearPart(layer, x, shape, arrays) {
  switch (layer.type) {
    case "Conv2D":
      return conv2d(x, shape, arrays.kernel, kernelOf(layer), arrays.bias, layer.strides, layer.padding);
    case "Dense":
      return dense(x, shape, arrays.kernel, kernelOf(layer), arrays.bias);
    case "DepthwiseConv2D":
      return depthwiseConv2d(x, shape, arrays.kernel, kernelOf(layer), arrays.bias, layer.strides, layer.padding);
    case "SeparableConv2D": {
      const d = depthwiseConv2d(x, shape, arrays.depthwise_kernel, kernelOf(layer, "depthwise_kernel"), null, layer.strides, layer.padding);
      const [, , mid, out] = kernelOf(layer, "pointwise_kernel");
      return dense(d.output, d.shape, arrays.pointwise_kernel, [mid, out], arrays.bias);
    }
    default:
      return null;
  }
}

function linearBackward(layer, grad, shape, arrays, mid) {
  switch (layer.type) {
    case "Conv2D":
      return conv2dBackward(grad, shape, arrays.kernel, kernelOf(layer), layer.strides, layer.padding);
    case "Dense":
      return denseBackward(grad, shape, arrays.kernel, kernelOf(layer));
    case "DepthwiseConv2D":
      return depthwiseConv2dBackward(grad, shape, arrays.kernel, kernelOf(layer), layer.strides, layer.padding);
    case "SeparableConv2D": {
      const [, , inner, out] = kernelOf(layer, "pointwise_kernel");
      const g = denseBackward(grad, mid, arrays.pointwise_kernel, [inner, out]);
      return depthwiseConv2dBackward(g, shape, arrays.depthwise_kernel, kernelOf(layer, "depthwise_kernel"), layer.strides, layer.padding);
    }
    default:
      throw new Error(`no linear part in ${layer.type}`);
  }
}

/** A layer's padding or cropping as [[top, bottom], [left, right]] and its mode. */
const padMode = (layer) => (layer.type === "Padding2D" ? layer.mode : "zero");

/**
 * One layer of a manifest entry on its `inputs` (Float32Arrays) of `shapes`; `arrays`
 * maps its array names to data. Returns {output, shape, pre}: `pre` is what went into
 * the layer's activation, kept for the backward pass.
 */
export function runLayer(layer, inputs, shapes, arrays) {
  const [x] = inputs;
  const [shape] = shapes;
  const linear = linearPart(layer, x, shape, arrays);
  if (linear) {
    return { output: activate(layer.activation, linear.output, linear.shape), shape: linear.shape, pre: linear.output };
  }
  if (IDENTITY.has(layer.type)) {
    // Flatten: channels-last data is already in Keras' flattened order; dropout is off.
    return { output: x, shape: layer.type === "Flatten" ? [x.length] : shape, pre: x };
  }
  switch (layer.type) {
    case "MaxPooling2D":
    case "AveragePooling2D": {
      const kind = layer.type === "MaxPooling2D" ? "max" : "average";
      return { ...pool2d(kind, x, shape, layer.pool_size, layer.strides, layer.padding), pre: x };
    }
    case "GlobalMaxPooling2D":
    case "GlobalAveragePooling2D": {
      const output = globalPool(layer.type === "GlobalMaxPooling2D" ? "max" : "average", x, shape);
      return { output, shape: layer.keepdims ? [1, 1, shape[2]] : [shape[2]], pre: x };
    }
    case "Activation":
      return { output: activate(layer.activation, x, shape), shape, pre: x };
    case "ReLU":
    case "LeakyReLU":
      return { output: relu(x, layer.negative_slope, layer.max_value ?? null, layer.threshold ?? 0), shape, pre: x };
    case "ELU":
      return { output: x.map((v) => (v > 0 ? v : layer.alpha * Math.expm1(v))), shape, pre: x };
    case "Softmax":
      return { output: softmax(x, shape[shape.length - 1]), shape, pre: x };
    case "BatchNormalization":
    case "Rescaling":
      return { output: channelAffine(x, arrays.scale, arrays.offset), shape, pre: x };
    case "ZeroPadding2D":
    case "Padding2D":
      return { ...pad2d(x, shape, layer.padding, padMode(layer)), pre: x };
    case "Cropping2D":
      return { ...crop2d(x, shape, layer.cropping), pre: x };
    case "Add": {
      const out = Float32Array.from(x);
      for (const other of inputs.slice(1)) for (let i = 0; i < out.length; i++) out[i] += other[i];
      return { output: out, shape, pre: x };
    }
    case "Concatenate":
      return { ...concatenate(inputs, shapes), pre: x };
    default:
      throw new Error(`layer ${layer.name}: type ${layer.type} is not supported`);
  }
}

/**
 * The gradient of a layer's output (`grad`) back to each of its inputs: a list, one
 * Float32Array per input. `run` is what runLayer returned; `activation` false starts
 * below the layer's activation (`grad` is then the gradient of `run.pre`).
 */
export function layerBackward(layer, inputs, shapes, arrays, run, grad, activation = true) {
  const [x] = inputs;
  const [shape] = shapes;
  if (["Conv2D", "Dense", "DepthwiseConv2D", "SeparableConv2D"].includes(layer.type)) {
    const g = activation ? activateBackward(layer.activation, run.pre, run.output, grad, run.shape) : grad;
    let mid = null;
    if (layer.type === "SeparableConv2D") {
      const [, , inner] = kernelOf(layer, "pointwise_kernel");
      mid = [...run.shape.slice(0, -1), inner];
    }
    return [linearBackward(layer, g, shape, arrays, mid)];
  }
  if (IDENTITY.has(layer.type)) return [grad];
  switch (layer.type) {
    case "MaxPooling2D":
    case "AveragePooling2D": {
      const kind = layer.type === "MaxPooling2D" ? "max" : "average";
      return [pool2dBackward(kind, x, shape, grad, layer.pool_size, layer.strides, layer.padding)];
    }
    case "GlobalMaxPooling2D":
    case "GlobalAveragePooling2D":
      return [globalPoolBackward(layer.type === "GlobalMaxPooling2D" ? "max" : "average", x, shape, run.output, grad)];
    case "Activation":
      return [activateBackward(layer.activation, x, run.output, grad, shape)];
    case "ReLU":
    case "LeakyReLU":
      return [grad.map((g, i) => g * reluSlope(x[i], layer.negative_slope, layer.max_value ?? null, layer.threshold ?? 0))];
    case "ELU":
      return [grad.map((g, i) => (x[i] > 0 ? g : g * layer.alpha * Math.exp(x[i])))];
    case "Softmax":
      return [softmaxBackward(run.output, grad, shape[shape.length - 1])];
    case "BatchNormalization":
    case "Rescaling": {
      const n = arrays.scale.length;
      return [grad.map((g, i) => g * arrays.scale[i % n])];
    }
    case "ZeroPadding2D":
    case "Padding2D":
      return [pad2dBackward(grad, shape, layer.padding, padMode(layer))];
    case "Cropping2D":
      return [crop2dBackward(grad, shape, layer.cropping, run.shape)];
    case "Add":
      return inputs.map(() => grad);
    case "Concatenate": {
      const lasts = shapes.map((s) => s[s.length - 1]);
      const total = lasts.reduce((a, b) => a + b, 0);
      const rows = grad.length / total;
      let offset = 0;
      return lasts.map((last) => {
        const g = new Float32Array(rows * last);
        for (let r = 0; r < rows; r++) g.set(grad.subarray(r * total + offset, r * total + offset + last), r * last);
        offset += last;
        return g;
      });
    }
    default:
      throw new Error(`layer ${layer.name}: type ${layer.type} is not supported`);
  }
}

/**
 * The indices of the layers whose outputs layer `l` reads (-1: the model's input): its
 * "inputs", which every checked manifest has, or else the layer before it (a chain, as
 * hand-written test models leave them out).
 */
export function inputsOf(model, l) {
  return model.layers[l].inputs ?? [l - 1];
}

/**
 * Run a model of the manifest on `pixels` (Float32Array of its input shape, row-major,
 * channels last). Each layer reads the outputs its `inputs` name (indices of earlier
 * layers; -1 the pixels). `arrays[i]` holds layer i's arrays by name. Returns
 * {outputs, shapes} keyed by layer name and `runs`, what each layer's runLayer gave.
 */
export function forward(model, arrays, pixels) {
  const size = model.input_shape.reduce((a, b) => a * b, 1);
  if (pixels.length !== size) {
    throw new Error(`input must have ${size} values (${model.input_shape.join("x")}); got ${pixels.length}`);
  }
  // Keyed by layer names, which may be any string: without a prototype, "__proto__" or
  // "constructor" is an entry like any other, not Object.prototype's.
  const outputs = Object.create(null);
  const shapes = Object.create(null);
  const runs = [];
  model.layers.forEach((layer, l) => {
    const from = inputsOf(model, l);
    const xs = from.map((i) => (i < 0 ? pixels : runs[i].output));
    const ss = from.map((i) => (i < 0 ? model.input_shape : runs[i].shape));
    const r = runLayer(layer, xs, ss, arrays[l]);
    runs.push(r);
    outputs[layer.name] = r.output;
    shapes[layer.name] = r.shape;
  });
  return { outputs, shapes, runs };
}

/**
 * Where a model's class scores are, as cnnviz.gradients reads them: the input of the
 * final softmax (the output layer's pre-activation, or the input of a final Softmax or
 * softmax Activation layer), or the output itself if the model does not end in a softmax.
 * Returns {layer, activation}: start the backward pass at `layer`'s output, through its
 * activation or not.
 */
export function scoreSource(model) {
  const last = model.layers.length - 1;
  const layer = model.layers[last];
  const from = inputsOf(model, last);
  if ((layer.type === "Softmax" || (layer.type === "Activation" && layer.activation === "softmax")) && from[0] >= 0) {
    return { layer: from[0], activation: true };
  }
  if (layer.activation === "softmax" && layer.type !== "Activation") return { layer: last, activation: false };
  return { layer: last, activation: true };
}

/**
 * The gradient of class `classIndex`'s score (see scoreSource) with respect to the
 * input pixels, by backpropagation through the same layers: a Float32Array of the
 * input's shape. `run` may be forward's result for these pixels, to reuse it.
 */
export function inputGradient(model, arrays, pixels, classIndex, run = forward(model, arrays, pixels)) {
  const { layer: start, activation } = scoreSource(model);
  const scores = start === model.layers.length - 1 && !activation ? run.runs[start].pre : run.runs[start].output;
  if (run.runs[start].shape.length !== 1) {
    throw new Error(`the class scores of model ${model.key} are not a vector (shape ${run.runs[start].shape.join("x")})`);
  }
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= scores.length) {
    throw new Error(`classIndex must be an integer from 0 to ${scores.length - 1}; got ${classIndex}`);
  }
  const grads = new Array(model.layers.length).fill(null);
  let input = null;
  grads[start] = new Float32Array(scores.length);
  grads[start][classIndex] = 1;
  for (let l = start; l >= 0; l--) {
    if (!grads[l]) continue; // not on a path to the score
    const layer = model.layers[l];
    const from = inputsOf(model, l);
    const xs = from.map((i) => (i < 0 ? pixels : run.runs[i].output));
    const ss = from.map((i) => (i < 0 ? model.input_shape : run.runs[i].shape));
    const back = layerBackward(layer, xs, ss, arrays[l], run.runs[l], grads[l], !(l === start && !activation));
    from.forEach((i, k) => {
      const g = back[k];
      if (i < 0) {
        if (!input) input = Float32Array.from(g);
        else for (let p = 0; p < g.length; p++) input[p] += g[p];
      } else if (!grads[i]) grads[i] = Float32Array.from(g);
      else for (let p = 0; p < g.length; p++) grads[i][p] += g[p];
    });
  }
  return input ?? new Float32Array(pixels.length); // a score that does not depend on the pixels
}

/**
 * The saliency map of class `classIndex`, as cnnviz.gradients computes it: the absolute
 * input gradient of its score, the largest over channels. A Float32Array of H*W values.
 */
export function saliency(model, arrays, pixels, classIndex, run = undefined) {
  const g = inputGradient(model, arrays, pixels, classIndex, run ?? forward(model, arrays, pixels));
  const [h, w, c] = model.input_shape;
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let best = 0;
    for (let k = 0; k < c; k++) best = Math.max(best, Math.abs(g[p * c + k]));
    out[p] = best;
  }
  return out;
}

/**
 * One output unit of a convolution worked out: the window it sees of the
 * input (zero where padded), the kernel, their products, the sum and the bias.
 * `row`, `col`, `channel` index the output; arrays are [kh][kw][in] in C order.
 * With `depthwise`, the kernel is a DepthwiseConv2D's (kh, kw, in, multiplier) and
 * the unit reads its one input channel; `inputChannels` names the channels read.
 */
export function convUnit(input, shape, kernel, kernelShape, bias, strides, padding, row, col, channel, depthwise = false) {
  const [h, w, channels] = shape;
  const [kh, kw, , last] = kernelShape;
  const inputChannels = depthwise ? [Math.floor(channel / last)] : Array.from({ length: channels }, (_, k) => k);
  const cin = inputChannels.length;
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
      inputChannels.forEach((ch, k) => {
        const at = (i * kw + j) * cin + k;
        window[at] = inside ? input[(y * w + x) * channels + ch] : 0;
        // A depthwise kernel's output channel `channel` is ch * multiplier + m.
        weights[at] = depthwise ? kernel[(i * kw + j) * channels * last + channel] : kernel[((i * kw + j) * channels + ch) * last + channel];
        sum += window[at] * weights[at];
      });
    }
  }
  const b = bias ? bias[channel] : 0;
  return { top, left, window, weights, padded, sum, bias: b, value: sum + b, inputChannels };
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
 * One unit of a dense layer (or of a separable convolution's pointwise step) worked out:
 * its non-zero inputs times their weights, the `top` largest products by size first.
 * Returns {terms: [{index, input, weight, product}], rest (the other products' sum),
 * others (how many), zeros (inputs that are 0), bias, sum}: sum is every product plus
 * the bias, what goes into the activation.
 */
export function denseUnit(input, kernel, kernelShape, bias, channel, top = 8) {
  const [nin, nout] = kernelShape;
  if (input.length !== nin) throw new Error(`kernel takes ${nin} values; input has ${input.length}`);
  const b = bias ? bias[channel] : 0;
  const terms = [];
  let sum = b;
  for (let i = 0; i < nin; i++) {
    const v = input[i];
    if (v === 0) continue;
    const weight = kernel[i * nout + channel];
    terms.push({ index: i, input: v, weight, product: v * weight });
    sum += v * weight;
  }
  terms.sort((a, c) => Math.abs(c.product) - Math.abs(a.product) || a.index - c.index);
  const rest = terms.slice(top).reduce((total, t) => total + t.product, 0);
  return { terms: terms.slice(0, top), rest, others: Math.max(0, terms.length - top), zeros: nin - terms.length, bias: b, sum };
}

/** A flat index of a [h, w, channels] array as [row, col, channel]; of an [n] one, [index]. */
export const place = (shape, index) => {
  if (shape.length !== 3) return [index];
  const ch = shape[2];
  const cell = Math.floor(index / ch);
  return [Math.floor(cell / shape[1]), cell % shape[1], index % ch];
};

/** The activation of an activation layer: [its name, its settings in words, or ""]. */
function activationOf(layer) {
  if (layer.type === "ELU") return ["elu", `alpha ${layer.alpha}`];
  if (layer.type === "Softmax") return ["softmax", ""];
  if (layer.type === "ReLU" || layer.type === "LeakyReLU") {
    const threshold = layer.threshold ?? 0;
    const parts = [];
    if (layer.negative_slope) parts.push(`slope ${layer.negative_slope} below ${threshold}`);
    else if (threshold) parts.push(`0 below ${threshold}`);
    if (layer.max_value !== null && layer.max_value !== undefined) parts.push(`capped at ${layer.max_value}`);
    return [layer.type === "LeakyReLU" ? "leaky_relu" : "relu", parts.join(", ")];
  }
  if (layer.activation === "leaky_relu") return ["leaky_relu", `slope ${LEAKY_SLOPE} below 0`];
  return [layer.activation, ""];
}

/**
 * How output unit (`cell`, `channel`) of a layer comes from its inputs, for the unit
 * panel; `cell` is row * columns + column (0 for a flat layer). `inputs`, `shapes` and
 * `arrays` are what runLayer took, `run` what it gave. Returns {kind, value, ...}:
 * - "dense": Dense, or a SeparableConv2D's pointwise step over its depthwise outputs
 *   (`multiplier`, the depthwise step's outputs per input channel; 0 for Dense):
 *   denseUnit's terms, the `activation` (null: none) and, for a Dense layer on a map,
 *   `inputCell` [row, col], the cell whose channels it reads;
 * - "affine": BatchNormalization (folded from its statistics) or Rescaling: input ×
 *   scale + offset, {input, scale, offset};
 * - "activation": {input, activation, settings} (the activation's name, and its
 *   settings in words or ""; softmax: also `max`, `total`, the sum of exp(x - max)
 *   over the last axis, `count`, its length, and `perCell`, true on a map);
 * - "copy": padding, cropping, flatten or dropout: `from` [row, col, channel] of the
 *   input ([index] of a flat one), or null where padding adds a zero;
 * - "add": `terms`, the inputs' values at the unit;
 * - "concatenate": `channel` of the joined channels is input `input`'s channel `from`;
 * - "global": a channel's h × w values, their mean or maximum (`at` [row, col] of it).
 * Conv2D, DepthwiseConv2D and pooling units are worked out by convUnit and poolUnit.
 */
export function layerUnit(layer, inputs, shapes, arrays, run, cell, channel, top = 8) {
  const [x] = inputs;
  const [shape] = shapes;
  const last = run.shape[run.shape.length - 1];
  const index = cell * last + channel;
  const value = run.output[index];
  const activation = layer.activation && layer.activation !== "linear" ? layer.activation : null;
  switch (layer.type) {
    case "Dense": {
      const nin = shape[shape.length - 1];
      const row = x.subarray(cell * nin, (cell + 1) * nin);
      const worked = denseUnit(row, arrays.kernel, kernelOf(layer), arrays.bias, channel, top);
      // On a map, a Dense layer reads the channels of one cell.
      const inputCell = shape.length === 3 ? [Math.floor(cell / shape[1]), cell % shape[1]] : null;
      return { kind: "dense", value, activation, inputCell, multiplier: 0, ...worked };
    }
    case "SeparableConv2D": {
      const d = depthwiseConv2d(x, shape, arrays.depthwise_kernel, kernelOf(layer, "depthwise_kernel"), null, layer.strides, layer.padding);
      const [, , mid, out] = kernelOf(layer, "pointwise_kernel");
      const row = d.output.subarray(cell * mid, (cell + 1) * mid);
      const worked = denseUnit(row, arrays.pointwise_kernel, [mid, out], arrays.bias, channel, top);
      // Depthwise channel k is input channel floor(k / multiplier) through its own kernel.
      const multiplier = kernelOf(layer, "depthwise_kernel")[3];
      return { kind: "dense", value, activation, inputCell: null, multiplier, ...worked };
    }
    case "BatchNormalization":
    case "Rescaling": {
      const n = arrays.scale.length;
      return { kind: "affine", value, input: x[index], scale: arrays.scale[channel % n], offset: arrays.offset[channel % n] };
    }
    case "Activation":
    case "ReLU":
    case "LeakyReLU":
    case "ELU":
    case "Softmax": {
      const [name, settings] = activationOf(layer);
      const worked = { kind: "activation", value, input: x[index], activation: name, settings };
      if (worked.activation === "softmax") {
        const start = index - channel;
        const row = x.subarray(start, start + last);
        worked.max = Math.max(...row);
        worked.total = row.reduce((total, v) => total + Math.exp(v - worked.max), 0);
        worked.count = last;
        worked.perCell = shape.length === 3; // over the channels of one cell
      }
      return worked;
    }
    case "ZeroPadding2D":
    case "Padding2D": {
      const [h, w] = shape;
      const [[before], [left]] = layer.padding;
      const cols = run.shape[1];
      const y = padSource(Math.floor(cell / cols), h, before, padMode(layer));
      const xx = padSource(cell % cols, w, left, padMode(layer));
      return { kind: "copy", value, from: y < 0 || xx < 0 ? null : [y, xx, channel] };
    }
    case "Cropping2D": {
      const [[before], [left]] = layer.cropping;
      const cols = run.shape[1];
      return { kind: "copy", value, from: [Math.floor(cell / cols) + before, (cell % cols) + left, channel] };
    }
    case "Flatten":
    case "Dropout":
    case "SpatialDropout2D":
      return { kind: "copy", value, from: place(shape, index) };
    case "Add":
      return { kind: "add", value, terms: inputs.map((input) => input[index]) };
    case "Concatenate": {
      const [k, from] = concatSource(shapes, channel);
      return { kind: "concatenate", value, channel, input: k, from };
    }
    case "GlobalMaxPooling2D":
    case "GlobalAveragePooling2D": {
      const [h, w, ch] = shape;
      let at = 0;
      for (let p = 1; p < h * w; p++) if (x[p * ch + channel] > x[at * ch + channel]) at = p;
      const kind = layer.type === "GlobalMaxPooling2D" ? "max" : "average";
      return { kind: "global", value, pooling: kind, count: h * w, at: kind === "max" ? [Math.floor(at / w), at % w] : null };
    }
    default:
      throw new Error(`layer ${layer.name}: no worked unit for type ${layer.type}`);
  }
}

/**
 * The map whose flattened cells are layer `index`'s input: {index, shape} of the layer
 * (-1: the model's input) before a Flatten that feeds it, through any Dropout after the
 * Flatten (a copy at inference); null if its input is not a flattened map.
 */
export function flattenedMap(model, index) {
  const inputOf = (i) => inputsOf(model, i)[0];
  let at = inputOf(index);
  while (at >= 0 && model.layers[at].type === "Dropout") at = inputOf(at);
  if (at < 0 || model.layers[at].type !== "Flatten") return null;
  const map = inputOf(at);
  const shape = map < 0 ? model.input_shape : model.layers[map].output_shape;
  return shape.length === 3 ? { index: map, shape } : null;
}

/**
 * The box of input pixels that output unit (row, col) of layer `index` sees, walking
 * back through the layers before it (every branch of a merge): [top, left, bottom,
 * right], inclusive, or null if it sees only padding. Padding that copies pixels (a
 * mirror, a wrap) adds the pixels it copies. `unit` is the unit's channel, or its
 * index in a flat layer's vector: a concatenation follows it to the input it comes
 * from (and layers that keep channels apart, to its channel), a Flatten or an
 * element-wise layer to its one cell; a Dense unit, a global pooling or a softmax sees
 * every cell of its input.
 */
export function receptiveBox(model, index, row, col, unit = 0) {
  const shapeOf = (i) => (i < 0 ? model.input_shape : model.layers[i].output_shape);
  // The rows (or columns) [a, b] of a layer's output that read [from, to] of its input.
  const span = (a, b, size, plan, stride, kernel) => [Math.max(a * stride - plan.before, 0), Math.min(b * stride - plan.before + kernel - 1, size - 1)];
  const copied = (a, b, size, before, mode) => {
    let [lo, hi] = [Infinity, -Infinity];
    for (let p = a; p <= b; p++) {
      const s = padSource(p, size, before, mode);
      if (s >= 0) [lo, hi] = [Math.min(lo, s), Math.max(hi, s)];
    }
    return [lo, hi];
  };
  const wholes = new Map(); // layer -> the box of its whole output
  // What all of layer i's output sees: its whole map, or the union of its inputs' for a vector.
  const whole = (i) => {
    if (!wholes.has(i)) {
      const shape = shapeOf(i);
      wholes.set(i, shape.length === 3 ? back(i, [0, 0, shape[0] - 1, shape[1] - 1]) : inputsOf(model, i).map(whole).reduce(union, null));
    }
    return wholes.get(i);
  };
  // What every cell of map i sees, in one channel (null: every channel).
  const all = (i, channel) => {
    const [h, w] = shapeOf(i);
    return back(i, [0, 0, h - 1, w - 1], channel);
  };
  // What element k (a flat index, channels last) of layer i's output sees.
  const element = (i, k) => {
    const shape = shapeOf(i);
    if (shape.length === 3) {
      const [r, c, channel] = place(shape, k);
      return back(i, [r, c, r, c], channel);
    }
    const layer = model.layers[i];
    const from = inputsOf(model, i);
    if (layer.type === "Concatenate") {
      const [input, at] = concatSource(from.map(shapeOf), k);
      return element(from[input], at);
    }
    if (layer.type.startsWith("Global")) return all(from[0], k); // channel k's every cell
    const oneToOne = ["Flatten", "Dropout", "SpatialDropout2D", "BatchNormalization", "Rescaling", "ReLU", "LeakyReLU", "ELU", "Add"];
    if (oneToOne.includes(layer.type) || (layer.type === "Activation" && layer.activation !== "softmax")) {
      return from.map((f) => element(f, k)).reduce(union, null);
    }
    return from.map(whole).reduce(union, null); // Dense, softmax: every input
  };
  // The layers whose output channel c reads input channel c alone (Concatenate and
  // DepthwiseConv2D map it; the rest, convolutions above all, read every channel).
  const sameChannel = new Set(["MaxPooling2D", "AveragePooling2D", "BatchNormalization", "Rescaling", "ReLU", "LeakyReLU", "ELU", "Dropout", "SpatialDropout2D", "ZeroPadding2D", "Padding2D", "Cropping2D", "Add"]);
  // What the box of layer i's output sees, in `channel` (null: every channel).
  const back = (i, box, channel = null) => {
    if (i < 0) return box;
    const layer = model.layers[i];
    const from = inputsOf(model, i);
    if (layer.type.startsWith("Global")) return all(from[0], channel); // keepdims: a 1x1 map
    if (layer.type === "Concatenate" && channel !== null) {
      const [input, at] = concatSource(from.map(shapeOf), channel);
      return back(from[input], box, at);
    }
    let next = null;
    if (sameChannel.has(layer.type) || (layer.type === "Activation" && layer.activation !== "softmax")) next = channel;
    if (layer.type === "DepthwiseConv2D" && channel !== null && layer.activation !== "softmax") {
      const multiplier = layer.arrays?.find((a) => a.name === "kernel")?.shape[3];
      next = multiplier ? Math.floor(channel / multiplier) : null;
    }
    const inShape = shapeOf(from[0]);
    let [top, left, bottom, right] = box;
    const size = layer.kernel_size ?? layer.pool_size;
    if (size) {
      const [ih, iw] = inShape;
      [top, bottom] = span(top, bottom, ih, axisPlan(ih, size[0], layer.strides[0], layer.padding), layer.strides[0], size[0]);
      [left, right] = span(left, right, iw, axisPlan(iw, size[1], layer.strides[1], layer.padding), layer.strides[1], size[1]);
    } else if (layer.type === "ZeroPadding2D" || layer.type === "Padding2D") {
      const mode = layer.type === "Padding2D" ? layer.mode : "zero";
      [top, bottom] = copied(top, bottom, inShape[0], layer.padding[0][0], mode);
      [left, right] = copied(left, right, inShape[1], layer.padding[1][0], mode);
    } else if (layer.type === "Cropping2D") {
      [top, bottom] = [top + layer.cropping[0][0], bottom + layer.cropping[0][0]];
      [left, right] = [left + layer.cropping[1][0], right + layer.cropping[1][0]];
    }
    if (top > bottom || left > right) return null; // only padding: no pixel
    return from.map((k) => back(k, [top, left, bottom, right], next)).reduce(union, null);
  };
  const [, cols, channels] = shapeOf(index);
  return (channels === undefined ? element(index, unit) : element(index, (row * cols + col) * channels + unit)) ?? null;
}

function union(a, b) {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}
