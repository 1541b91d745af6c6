// The input side: an uploaded picture made into a Fashion-MNIST-like 28x28
// image, and the brush. Plain functions on typed arrays, no DOM: this module
// runs under `node --test`.

/**
 * Turn an RGBA picture (Uint8ClampedArray, width x height) into 784 values in
 * [0, 1], the way Fashion-MNIST's images were made from product photos:
 * grayscale; trim the edges whose pixels are all within 5% of the corners'
 * colour; scale the longest edge to 28 pixels (area averaging); centre on a
 * 28x28 square of the background; negate if the background is light, so that
 * the background is dark and the garment bright. (Fashion-MNIST also sharpened
 * its images; this does not.)
 */
export function fashionMnistPixels(rgba, width, height, size = 28) {
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
  const out = new Float32Array(size * size).fill(background);
  if (bottom >= 0) {
    const h = bottom - top + 1;
    const w = right - left + 1;
    const scale = size / Math.max(h, w);
    const oh = Math.max(1, Math.round(h * scale));
    const ow = Math.max(1, Math.round(w * scale));
    const oy = Math.floor((size - oh) / 2);
    const ox = Math.floor((size - ow) / 2);
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        // The source rectangle this output pixel covers, averaged by area.
        const y0 = top + (r * h) / oh;
        const y1 = top + ((r + 1) * h) / oh;
        const x0 = left + (c * w) / ow;
        const x1 = left + ((c + 1) * w) / ow;
        let sum = 0;
        let area = 0;
        for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
          const fy = Math.min(y + 1, y1) - Math.max(y, y0);
          for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
            const f = fy * (Math.min(x + 1, x1) - Math.max(x, x0));
            sum += f * gray[y * width + x];
            area += f;
          }
        }
        out[(oy + r) * size + ox + c] = sum / area;
      }
    }
  }
  if (background > 0.5) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/**
 * Paint a round brush of `diameter` pixels at (x, y) (pixel units, may be
 * fractional) onto `pixels` (size x size, values in [0, 1]); soft by half a
 * pixel at the edge, never darkening what is there. Returns `pixels`.
 */
export function paint(pixels, x, y, diameter, size = 28, value = 1) {
  const radius = diameter / 2;
  const reach = Math.ceil(radius + 1);
  for (let r = Math.floor(y) - reach; r <= Math.floor(y) + reach; r++) {
    if (r < 0 || r >= size) continue;
    for (let c = Math.floor(x) - reach; c <= Math.floor(x) + reach; c++) {
      if (c < 0 || c >= size) continue;
      const d = Math.hypot(c + 0.5 - x, r + 0.5 - y);
      const v = value * Math.min(1, Math.max(0, radius + 0.5 - d));
      if (v > pixels[r * size + c]) pixels[r * size + c] = v;
    }
  }
  return pixels;
}

/** Paint along the segment from (x0, y0) to (x1, y1), every half pixel. */
export function stroke(pixels, x0, y0, x1, y1, diameter, size = 28) {
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
  for (let s = 0; s <= steps; s++) {
    paint(pixels, x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, diameter, size);
  }
  return pixels;
}
