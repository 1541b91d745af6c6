// The input side: an uploaded picture made into the models' input (a
// Fashion-MNIST-like image for one channel, the picture's colours for three),
// the brush, and images.json checked against its weights. Plain functions on
// typed arrays, no DOM: this module runs under `node --test`.

/**
 * The mean of `values` (`channels` per pixel, `width` pixels a row) over each of
 * `oh` x `ow` output cells that split the source rectangle (top, left, height, width;
 * fractional) evenly: area averaging. Returns oh * ow * channels values.
 */
function areaAverage(values, channels, width, [top, left, h, w], oh, ow) {
  const out = new Float32Array(oh * ow * channels);
  for (let r = 0; r < oh; r++) {
    const y0 = top + (r * h) / oh;
    const y1 = top + ((r + 1) * h) / oh;
    for (let c = 0; c < ow; c++) {
      const x0 = left + (c * w) / ow;
      const x1 = left + ((c + 1) * w) / ow;
      const sums = new Float64Array(channels);
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const fy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const f = fy * (Math.min(x + 1, x1) - Math.max(x, x0));
          for (let k = 0; k < channels; k++) sums[k] += f * values[(y * width + x) * channels + k];
          area += f;
        }
      }
      for (let k = 0; k < channels; k++) out[(r * ow + c) * channels + k] = sums[k] / area;
    }
  }
  return out;
}

/**
 * Turn an RGBA picture (Uint8ClampedArray, width x height) into h x w values in
 * [0, 1], the way Fashion-MNIST's images were made from product photos:
 * grayscale; trim the edges whose pixels are all within 5% of the corners'
 * colour; scale it to fit h x w (area averaging); centre it on the background;
 * negate if the background is light, so that the background is dark and the
 * garment bright. (Fashion-MNIST also sharpened its images; this does not.)
 */
export function fashionMnistPixels(rgba, width, height, h = 28, w = h) {
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    // ITU-R 601 luma, as PIL's convert("L") and Fashion-MNIST's pipeline use.
    gray[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
  }
  const corners = [0, width - 1, (height - 1) * width, height * width - 1];
  const background = corners.reduce((s, i) => s + gray[i], 0) / 4;
  const differs = (i) => Math.abs(gray[i] - background) > 0.05;
  let [top, bottom, left, right] = [height, -1, width, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (differs(y * width + x)) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  const out = new Float32Array(h * w).fill(background);
  if (bottom >= 0) {
    const bh = bottom - top + 1;
    const bw = right - left + 1;
    const scale = Math.min(h / bh, w / bw);
    const oh = Math.max(1, Math.round(bh * scale));
    const ow = Math.max(1, Math.round(bw * scale));
    const oy = Math.floor((h - oh) / 2);
    const ox = Math.floor((w - ow) / 2);
    const scaled = areaAverage(gray, 1, width, [top, left, bh, bw], oh, ow);
    for (let r = 0; r < oh; r++) out.set(scaled.subarray(r * ow, (r + 1) * ow), (oy + r) * w + ox);
  }
  if (background > 0.5) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/**
 * Turn an RGBA picture (width x height) into h x w x 3 values in [0, 1], red, green,
 * blue: the largest centred part of the picture with the models' shape (h : w),
 * scaled by area averaging, colours as they are.
 */
export function colourPixels(rgba, width, height, h, w) {
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let k = 0; k < 3; k++) rgb[3 * i + k] = rgba[4 * i + k] / 255;
  const scale = Math.min(width / w, height / h);
  const [ch, cw] = [h * scale, w * scale];
  return areaAverage(rgb, 3, width, [(height - ch) / 2, (width - cw) / 2, ch, cw], h, w);
}

/**
 * Paint a round brush of `diameter` pixels at (x, y) (pixel units, may be
 * fractional) onto `pixels` ([height, width, channels] = `shape`, values in
 * [0, 1]), in every channel (white); soft by half a pixel at the edge, never
 * darkening what is there. Returns `pixels`.
 */
export function paint(pixels, x, y, diameter, shape = [28, 28, 1], value = 1) {
  const [h, w, channels] = shape;
  const radius = diameter / 2;
  const reach = Math.ceil(radius + 1);
  for (let r = Math.floor(y) - reach; r <= Math.floor(y) + reach; r++) {
    if (r < 0 || r >= h) continue;
    for (let c = Math.floor(x) - reach; c <= Math.floor(x) + reach; c++) {
      if (c < 0 || c >= w) continue;
      const d = Math.hypot(c + 0.5 - x, r + 0.5 - y);
      const v = value * Math.min(1, Math.max(0, radius + 0.5 - d));
      for (let k = 0; k < channels; k++) {
        const at = (r * w + c) * channels + k;
        if (v > pixels[at]) pixels[at] = v;
      }
    }
  }
  return pixels;
}

/** Paint along the segment from (x0, y0) to (x1, y1), every half pixel. */
export function stroke(pixels, x0, y0, x1, y1, diameter, shape = [28, 28, 1]) {
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
  for (let s = 0; s <= steps; s++) {
    paint(pixels, x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, diameter, shape);
  }
  return pixels;
}

/** Raised for an images.json the page must not use; its message is shown to the reader. */
export class ImagesError extends Error {
  constructor(message) {
    super(message);
    this.name = "ImagesError";
  }
}

/**
 * Check images.json (its parsed JSON) against the weights it was written with,
 * `weights` as parseWeights returns it. Returns {labels, bytes}: the class of
 * each image and its pixels, bytes of the models' input `shape` ([height, width,
 * channels]) per image, row-major, channels last. Throws ImagesError if the file
 * belongs to other weights or does not hold what the manifest's "images" and
 * "class_names" say.
 */
export function parseImages(samples, weights, shape = [28, 28, 1]) {
  if (typeof samples !== "object" || samples === null || Array.isArray(samples)) {
    throw new ImagesError("images.json is not an object with labels and pixels");
  }
  if (samples.weights_sha256 !== weights.sha256) {
    throw new ImagesError(
      `images.json was written with other weights (SHA-256 ${samples.weights_sha256}, and weights.bin ` +
        `has ${weights.sha256}): export the page again`,
    );
  }
  const { images, class_names: classNames } = weights.manifest;
  const labels = samples.labels;
  if (!Array.isArray(labels) || labels.length !== images) {
    throw new ImagesError(`images.json must hold ${images} labels, as weights.bin says; it holds ${Array.isArray(labels) ? labels.length : "none"}`);
  }
  const bad = labels.findIndex((k) => !Number.isInteger(k) || k < 0 || k >= classNames.length);
  if (bad >= 0) {
    throw new ImagesError(`images.json's label ${bad} must be a class from 0 to ${classNames.length - 1}; it is ${JSON.stringify(labels[bad])}`);
  }
  const [h, w, channels] = shape;
  const expected = channels === 1 ? [h, w] : [h, w, channels];
  const same = Array.isArray(samples.shape) && samples.shape.length === expected.length && expected.every((d, i) => samples.shape[i] === d);
  if (!same) {
    throw new ImagesError(`images.json's images must be of shape ${JSON.stringify(expected)}, the models' input; its shape is ${JSON.stringify(samples.shape)}`);
  }
  let bytes;
  try {
    if (typeof samples.pixels !== "string") throw new Error(`a ${typeof samples.pixels}, not a string`);
    bytes = Uint8Array.from(atob(samples.pixels), (c) => c.charCodeAt(0));
  } catch (error) {
    throw new ImagesError(`images.json's pixels are not base64 (${error.message})`);
  }
  const size = h * w * channels;
  if (bytes.length !== labels.length * size) {
    throw new ImagesError(`images.json must hold ${labels.length * size} pixel bytes, ${size} per image; it holds ${bytes.length}`);
  }
  return { labels, bytes };
}
