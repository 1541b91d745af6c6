// The page's view in its URL, and the shift: plain functions, no DOM (tested
// under `node --test`, tests/explorer/state.test.mjs).
//
// The view lives in the URL's fragment, as form fields:
//   models=valid,same     the models shown, by key (each key URI-encoded)
//   look=valid            the model whose saliency is drawn
//   class=3               the class whose saliency is drawn (absent: the predicted one)
//   image=12              the test image shown, by its place in the picker, or
//   drawing=...           a drawing: its pixel values as bytes (0-255), base64url
//   shift=1,-2            the shift: rows down, columns right
//   unit=valid,conv1,3,4,0  the clicked unit: model, layer name, row, column, channel
// A part that does not fit the page (a model it does not have, a row past the
// layer's edge) is left out, and said so; the rest of the view is kept.

/** How far the drawing may be moved, in pixels, each way: as the padding section's grid. */
export const MAX_SHIFT = 6;

/**
 * `pixels` (h x w, `channels` values a pixel) moved `rows` down and `cols` right;
 * zeros come in at the edges.
 */
export function shifted(pixels, h, w, rows, cols, channels = 1) {
  if (rows === 0 && cols === 0) return pixels;
  const out = new Float32Array(h * w * channels);
  const x0 = Math.max(0, cols);
  const x1 = Math.min(w, w + cols);
  if (x1 <= x0) return out;
  for (let y = Math.max(0, rows); y < Math.min(h, h + rows); y++) {
    const from = ((y - rows) * w + x0 - cols) * channels;
    out.set(pixels.subarray(from, from + (x1 - x0) * channels), (y * w + x0) * channels);
  }
  return out;
}

/** Bytes as base64url (RFC 4648, section 5), without padding. */
export function toBase64Url(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of a base64url text; throws on anything else. */
export function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const integer = (text) => (/^-?\d+$/.test(text) ? Number(text) : NaN);

/**
 * The URL fragment (without "#") of a view: {shown (Set of model indices), look,
 * target (class or null), image (index or null), shift [rows, cols], unit or null},
 * with `drawing` (the pixels, when no test image is shown).
 */
export function viewHash(view, keys, models, drawing = null) {
  const parts = [`models=${[...view.shown].sort((a, b) => a - b).map((m) => encodeURIComponent(keys[m])).join(",")}`];
  parts.push(`look=${encodeURIComponent(keys[view.look])}`);
  if (view.target !== null) parts.push(`class=${view.target}`);
  if (view.image !== null) parts.push(`image=${view.image}`);
  else if (drawing) parts.push(`drawing=${toBase64Url(Uint8Array.from(drawing, (v) => Math.round(255 * v)))}`);
  if (view.shift[0] || view.shift[1]) parts.push(`shift=${view.shift[0]},${view.shift[1]}`);
  if (view.unit) {
    const { model, layer, row, col, channel } = view.unit;
    const name = encodeURIComponent(models[model].layers[layer].name);
    parts.push(`unit=${encodeURIComponent(keys[model])},${name},${row},${col},${channel}`);
  }
  return parts.join("&");
}

/** Put the view in the page's URL, replacing the entry (no new history step per stroke). */
export function writeView(window, view, keys, models, drawing) {
  const hash = viewHash(view, keys, models, drawing);
  if (window.location.hash.slice(1) !== hash) window.history.replaceState(null, "", `#${hash}`);
}

/**
 * Read a view from a URL fragment (with or without "#"). Returns {view, drawing,
 * problems}: `drawing` is the pixels of a drawing in the link (or null), `problems`
 * says what was left out and why. With no fragment: the first two models, no shift.
 * `shape` is the models' input, [height, width, channels]: a drawing's size.
 */
export function readView(hash, keys, models, classCount, imageCount, shape = [28, 28, 1]) {
  const size = shape[0] * shape[1] * shape[2];
  const view = { shown: new Set(keys.length > 1 ? [0, 1] : [0]), look: 0, target: null, image: null, shift: [0, 0], unit: null };
  const problems = [];
  let drawing = null;
  const fields = new Map();
  for (const part of hash.replace(/^#/, "").split("&")) {
    if (!part) continue;
    const at = part.indexOf("=");
    if (at < 0) {
      problems.push(`"${part}" is not a field=value pair`);
      continue;
    }
    fields.set(part.slice(0, at), part.slice(at + 1));
  }
  const decode = (text) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return null;
    }
  };
  const model = (text, field) => {
    const m = keys.indexOf(decode(text));
    if (m < 0) problems.push(`${field}: no model ${JSON.stringify(decode(text) ?? text)} (the models: ${keys.join(", ")})`);
    return m;
  };
  for (const [field, value] of fields) {
    if (field === "models") {
      const chosen = value.split(",").map((k) => model(k, field)).filter((m) => m >= 0);
      if (chosen.length) view.shown = new Set(chosen);
    } else if (field === "look") {
      const m = model(value, field);
      if (m >= 0) view.look = m;
    } else if (field === "class") {
      const k = integer(value);
      if (k >= 0 && k < classCount) view.target = k;
      else problems.push(`class: expected a class from 0 to ${classCount - 1}; got ${JSON.stringify(value)}`);
    } else if (field === "image") {
      const i = integer(value);
      if (i >= 0 && i < imageCount) view.image = i;
      else problems.push(imageCount ? `image: expected an image from 0 to ${imageCount - 1}; got ${JSON.stringify(value)}` : "image: this page has no test images");
    } else if (field === "drawing") {
      let bytes = null;
      try {
        bytes = fromBase64Url(value);
      } catch {
        // said below
      }
      if (bytes && bytes.length === size) drawing = Float32Array.from(bytes, (b) => b / 255);
      else problems.push(`drawing: expected ${size} pixel values (${shape.join("×")}) as base64url`);
    } else if (field === "shift") {
      const shift = value.split(",").map(integer);
      if (shift.length === 2 && shift.every((v) => Math.abs(v) <= MAX_SHIFT)) view.shift = shift;
      else problems.push(`shift: expected two whole numbers from -${MAX_SHIFT} to ${MAX_SHIFT}; got ${JSON.stringify(value)}`);
    } else if (field === "unit") {
      const [key, name, ...place] = value.split(",");
      const m = model(key ?? "", field);
      if (m < 0) continue;
      const layerName = decode(name ?? "") ?? name; // a malformed escape is shown as it came
      const l = models[m].layers.findIndex((layer) => layer.name === layerName);
      const shape = l >= 0 ? models[m].layers[l].output_shape : [];
      const [row, col, channel] = place.map(integer);
      // A flat layer's unit k is row 0, column 0, channel k.
      const bounds = shape.length === 3 ? shape : [1, 1, shape[0]];
      if (l < 0) problems.push(`unit: model ${keys[m]} has no layer named ${JSON.stringify(layerName)}`);
      else if (place.length !== 3 || ![row, col, channel].every((v, i) => v >= 0 && v < bounds[i])) {
        const what = shape.length === 3 ? "a row, column and channel" : "row 0, column 0 and a unit";
        problems.push(`unit: expected ${what} inside ${models[m].layers[l].name}'s ${shape.join("×")}; got ${place.join(",")}`);
      } else view.unit = { model: m, layer: l, row, col, channel };
    } else {
      problems.push(`"${field}" is not a part of this page's links`);
    }
  }
  if (view.image !== null) drawing = null;
  if (view.unit) view.shown.add(view.unit.model); // before look falls back to a shown model
  if (!view.shown.has(view.look)) view.look = [...view.shown][0];
  return { view, drawing, problems };
}
