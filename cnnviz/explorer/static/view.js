// Drawing: layer outputs as tiles, bars and probabilities; one unit's arithmetic.
// Colour rules (one per figure, said on the page): values with a sign on a
// blue-white-red scale centred on zero (limit: the largest |value|), values of
// at least zero on a black-to-white scale from 0 to the largest value.
import { place } from "./layers.js";

/** RGBA bytes for `n` values read as values[start + i * step], on the scale [lo, hi]. */
export function colours(values, start, step, n, limit, signed) {
  const rgba = new Uint8ClampedArray(n * 4);
  const scale = limit > 0 ? 1 / limit : 0;
  for (let i = 0; i < n; i++) {
    const v = values[start + i * step] * scale;
    const o = 4 * i;
    if (signed) {
      const t = Math.min(1, Math.abs(v));
      // White at 0, red for positive, blue for negative.
      rgba[o] = v >= 0 ? 255 : 255 * (1 - t) + 33 * t;
      rgba[o + 1] = 255 * (1 - t) + (v >= 0 ? 40 : 102) * t;
      rgba[o + 2] = v >= 0 ? 255 * (1 - t) + 40 * t : 255 * (1 - t) + 172 * t;
    } else {
      rgba[o] = rgba[o + 1] = rgba[o + 2] = 255 * Math.min(1, Math.max(0, v));
    }
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** The largest |value| of channel `channel` (or of all channels if it is null). */
export function limitOf(values, channels, channel) {
  let limit = 0;
  let signed = false;
  for (let i = channel ?? 0; i < values.length; i += channel === null ? 1 : channels) {
    const v = values[i];
    if (v < 0) signed = true;
    if (Math.abs(v) > limit) limit = Math.abs(v);
  }
  return { limit, signed };
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function formatValue(v) {
  return Number.isNaN(v) ? "pad" : v.toFixed(2);
}

/** Whether a layer's output is the class probabilities: a softmax over as many values as classes. */
export function isProbabilities(layer, classCount) {
  const out = layer.output_shape;
  const softmax = layer.type === "Softmax" || layer.activation === "softmax";
  return softmax && out.length === 1 && out[0] === classCount;
}

/**
 * Build the column of one model: a block per layer with its tiles, bars or
 * probabilities. `onUnit(layerIndex, row, col, channel)` is called when a
 * tile is clicked. Returns the handles `update` draws into.
 */
export function buildModel(container, model, classNames, onUnit) {
  const column = element("section", { class: "model", "aria-label": `model ${model.key}` });
  column.append(element("h2", {}, `${model.key}`));
  const prediction = element("p", { class: "prediction", "aria-live": "polite" });
  column.append(prediction);
  const handles = { column, prediction, layers: [] };
  model.layers.forEach((layer, index) => {
    const shape = layer.output_shape;
    const block = element("div", { class: `layer layer-${layer.type}` });
    const heading = element("h3", {}, `${layer.name} `);
    heading.append(element("span", { class: "shape" }, `${layer.type} → ${shape.join("×")}`));
    block.append(heading);
    const scale = element("p", { class: "scale" });
    block.append(scale);
    const handle = { layer, scale, kind: "none" };
    if (shape.length === 3) {
      handle.kind = "tiles";
      const tiles = element("div", { class: "tiles" });
      handle.tiles = [];
      for (let k = 0; k < shape[2]; k++) {
        const canvas = element("canvas", {
          width: shape[1],
          height: shape[0],
          class: "tile",
          title: `${layer.name}, channel ${k}: click a unit to see its arithmetic`,
        });
        canvas.style.setProperty("--cells", shape[1]);
        canvas.addEventListener("click", (event) => {
          const box = canvas.getBoundingClientRect();
          const col = Math.min(shape[1] - 1, Math.floor(((event.clientX - box.left) / box.width) * shape[1]));
          const row = Math.min(shape[0] - 1, Math.floor(((event.clientY - box.top) / box.height) * shape[0]));
          onUnit(index, row, col, k);
        });
        tiles.append(canvas);
        handle.tiles.push(canvas);
      }
      block.append(tiles);
    } else if (layer.type === "Flatten") {
      scale.textContent = `${shape[0]} values: the layer before, read in channels-last order (choose one in “One unit, worked out” to see its cell).`;
    } else if (isProbabilities(layer, classNames.length)) {
      handle.kind = "probabilities";
      const list = element("ol", { class: "probabilities" });
      handle.rows = classNames.map((name, k) => {
        const item = element("li", { title: `${name}: click to see how its probability is computed` });
        item.addEventListener("click", () => onUnit(index, 0, 0, k));
        const label = element("span", { class: "class-name" }, name);
        const bar = element("span", { class: "bar" });
        const fill = element("span", { class: "fill" });
        bar.append(fill);
        const value = element("span", { class: "value" });
        item.append(label, bar, value);
        list.append(item);
        return { item, fill, value };
      });
      block.append(list);
    } else {
      handle.kind = "bars";
      // At least 240 pixels wide: a few units get wide bars, not a smear when stretched.
      const units = shape[shape.length - 1];
      handle.canvas = element("canvas", { class: "bars", width: Math.max(240, 2 * units), height: 48, title: `${layer.name}: click a bar to see its arithmetic` });
      handle.canvas.addEventListener("click", (event) => {
        const box = handle.canvas.getBoundingClientRect();
        onUnit(index, 0, 0, Math.min(units - 1, Math.floor(((event.clientX - box.left) / box.width) * units)));
      });
      block.append(handle.canvas);
    }
    column.append(block);
    handles.layers.push(handle);
  });
  container.append(column);
  return handles;
}

function describe(limit, signed, per) {
  return signed
    ? `blue −${limit.toPrecision(3)} · white 0 · red +${limit.toPrecision(3)} (${per})`
    : `black 0 · white ${limit.toPrecision(3)} (${per})`;
}

/** Draw one model's outputs into its handles; `perLayer` puts a layer's tiles on one scale. */
export function update(handles, outputs, classNames, perLayer) {
  // Without class probabilities, the prediction is the largest of one score per class.
  const last = handles.layers.at(-1);
  if (last.kind !== "probabilities") {
    const values = outputs[last.layer.name];
    if (last.layer.output_shape.length === 1 && values.length === classNames.length) {
      let best = 0;
      for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
      handles.prediction.textContent = `Largest score: ${classNames[best]} (${values[best].toFixed(2)})`;
      handles.prediction.dataset.class = String(best);
    } else {
      handles.prediction.textContent = "";
      delete handles.prediction.dataset.class;
    }
  }
  for (const handle of handles.layers) {
    const values = outputs[handle.layer.name];
    const shape = handle.layer.output_shape;
    if (handle.kind === "tiles") {
      const channels = shape[2];
      const whole = limitOf(values, channels, null);
      const limits = [];
      handle.tiles.forEach((canvas, k) => {
        const own = perLayer ? whole : limitOf(values, channels, k);
        const { limit, signed } = perLayer ? whole : { limit: own.limit, signed: whole.signed };
        limits.push(limit);
        const rgba = colours(values, k, channels, shape[0] * shape[1], limit, signed);
        canvas.getContext("2d").putImageData(new ImageData(rgba, shape[1], shape[0]), 0, 0);
      });
      handle.scale.textContent = perLayer
        ? describe(whole.limit, whole.signed, "one scale for the layer")
        : `${whole.signed ? "blue − · white 0 · red +" : "black 0 · white max"}, each map to its own largest |value| (${Math.min(...limits).toPrecision(2)} to ${Math.max(...limits).toPrecision(2)})`;
    } else if (handle.kind === "bars") {
      drawBars(handle.canvas, values, handle.selected ?? null);
      const { limit, signed } = limitOf(values, 1, null);
      // Bars are red up from 0 (blue down, for negative values): not the tiles' gray or blue-white-red.
      const colours = signed ? "red above 0, blue below" : "red";
      handle.scale.textContent = `one bar per unit, ${colours}; the largest |value| (${limit.toPrecision(3)}) reaches the edge`;
    } else if (handle.kind === "probabilities") {
      let best = 0;
      for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
      handle.rows.forEach((row, i) => {
        row.fill.style.width = `${(100 * values[i]).toFixed(1)}%`;
        row.value.textContent = `${(100 * values[i]).toFixed(1)}%`;
        row.item.classList.toggle("best", i === best);
      });
      handle.scale.textContent = "class probabilities, bars from 0 to 100%";
      handles.prediction.textContent = `Predicted: ${classNames[best]} (${(100 * values[best]).toFixed(1)}%)`;
      handles.prediction.dataset.class = String(best);
    }
  }
}

/** Draw one bar per value; `selected` (an index, or null) gets an amber frame the height of the canvas. */
function drawBars(canvas, values, selected = null) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const { limit, signed } = limitOf(values, 1, null);
  const zero = signed ? height / 2 : height;
  const scale = limit > 0 ? (signed ? height / 2 : height) / limit : 0;
  const step = width / values.length;
  for (let i = 0; i < values.length; i++) {
    const h = values[i] * scale;
    context.fillStyle = values[i] >= 0 ? "#b2182b" : "#2166ac";
    context.fillRect(i * step, h >= 0 ? zero - h : zero, Math.max(1, step - 0.5), Math.abs(h));
  }
  context.fillStyle = "#888";
  context.fillRect(0, zero - 0.5, width, 1);
  if (selected !== null && selected < values.length) {
    context.strokeStyle = "#ffb000";
    context.lineWidth = 2;
    context.strokeRect(selected * step - 1, 1, Math.max(1, step - 0.5) + 2, height - 2);
  }
}

/**
 * Mark unit `k` of a layer's handle, or none (`k` null): its tile, its class row or its
 * bar (redrawn from `values`, the layer's current output).
 */
export function markUnit(handle, values, k) {
  if (handle.kind === "tiles") handle.tiles.forEach((tile, i) => tile.classList.toggle("selected", i === k));
  else if (handle.kind === "probabilities") handle.rows.forEach((row, i) => row.item.classList.toggle("selected", i === k));
  else if (handle.kind === "bars" && handle.selected !== k) {
    handle.selected = k;
    if (values) drawBars(handle.canvas, values, k);
  }
}

function grid(values, rows, cols, channels, channel, highlight, padded) {
  const table = element("table", { class: "numbers" });
  for (let r = 0; r < rows; r++) {
    const tr = element("tr");
    for (let c = 0; c < cols; c++) {
      const at = r * cols + c;
      const v = values[at * channels + channel];
      const td = element("td", {}, formatValue(padded && padded[at] ? NaN : v));
      if (highlight === at) td.className = "winner";
      if (padded && padded[at]) td.className = "padded";
      tr.append(td);
    }
    table.append(tr);
  }
  return table;
}

/** Show a convolution unit: per input channel the window, the kernel and their sum; then the total. */
export function showConv(panel, title, unit, kernelShape, activation, shown) {
  panel.replaceChildren(element("h3", {}, title));
  const [kh, kw] = kernelShape;
  const cin = unit.inputChannels?.length ?? kernelShape[2];
  const parts = element("div", { class: "parts" });
  for (let ch = 0; ch < cin; ch++) {
    let partial = 0;
    for (let i = 0; i < kh * kw; i++) partial += unit.window[i * cin + ch] * unit.weights[i * cin + ch];
    const part = element("figure", { class: "part" });
    part.append(
      element("figcaption", {}, `input channel ${unit.inputChannels?.[ch] ?? ch}: window × kernel, summed = ${partial.toFixed(3)}`),
      grid(unit.window, kh, kw, cin, ch, -1, unit.padded),
      element("span", { class: "times" }, "×"),
      grid(unit.weights, kh, kw, cin, ch, -1, null),
    );
    parts.append(part);
  }
  panel.append(parts);
  const after =
    activation && activation !== "linear"
      ? `; after ${activation}, the layer shows ${shown.toFixed(4)}`
      : `, the value shown (${shown.toFixed(4)})`;
  panel.append(
    element(
      "p",
      { class: "sum" },
      `Σ window × kernel = ${unit.sum.toFixed(4)}; + bias ${unit.bias.toFixed(4)} = ${unit.value.toFixed(4)}${after}. ` +
        `Window rows ${unit.top}–${unit.top + kh - 1}, columns ${unit.left}–${unit.left + kw - 1} of the layer's input` +
        (unit.padded.some((p) => p) ? "; “pad” cells are zero padding." : "."),
    ),
  );
}

/** Show a pooling unit: its window, with the winner marked for max pooling. */
export function showPool(panel, title, unit, poolSize, kind, shown) {
  panel.replaceChildren(element("h3", {}, title));
  const valid = Array.from(unit.window).filter((v) => !Number.isNaN(v));
  panel.append(grid(unit.window, poolSize[0], poolSize[1], 1, 0, kind === "max" ? unit.winner : -1, null));
  const text =
    kind === "max"
      ? `The largest of the window's ${valid.length} values wins: ${shown.toFixed(4)} (marked).`
      : `The mean of the window's ${valid.length} values: ${shown.toFixed(4)}.`;
  panel.append(element("p", { class: "sum" }, `${text} Window rows ${unit.top}–${unit.top + poolSize[0] - 1}, columns ${unit.left}–${unit.left + poolSize[1] - 1} of the layer's input.`));
}

const AFFINE_NOTE = {
  BatchNormalization: " (batch normalization at inference, folded: scale = γ / √(moving variance + ε), offset = β − moving mean × scale)",
  Rescaling: " (rescaling)",
};

/**
 * Show a unit that layerUnit worked out. `layer` is its layer, `inputs` names the
 * layer's inputs (layer names, or "the input"), `shown` is the value the page draws;
 * `flattened` ({name, shape}), if given, is the map a Dense unit's inputs are the
 * flattened cells of, so that each input is named by its cell.
 */
export function showWorked(panel, title, worked, layer, inputs, shown, flattened = null) {
  panel.replaceChildren(element("h3", {}, title));
  const v = (x) => x.toFixed(4);
  // Weights and scales can be small: four significant digits where 4 decimals would show 0.
  const w = (x) => (x === 0 || Math.abs(x) >= 5e-4 ? x.toFixed(4) : x.toExponential(3));
  const at = (from) => (from.length === 1 ? `[${from[0]}]` : `[row ${from[0]}, column ${from[1]}, channel ${from[2]}]`);
  const say = (text) => panel.append(element("p", { class: "sum" }, text));
  const [first] = inputs;
  switch (worked.kind) {
    case "dense": {
      const m = worked.multiplier;
      let heading = first;
      let label = (k) => (flattened ? `[${k}] = ${flattened.name}${at(place(flattened.shape, k))}` : `[${k}]`);
      if (m) {
        heading = "depthwise output";
        label = (k) => (m === 1 ? `channel ${k}` : `channel ${k} (input channel ${Math.floor(k / m)})`);
      } else if (worked.inputCell) {
        heading = `${first}[row ${worked.inputCell[0]}, column ${worked.inputCell[1]}]`;
        label = (k) => `channel ${k}`;
      }
      const table = element("table", { class: "numbers terms" });
      const head = element("tr");
      for (const h of [heading, "value", "× weight", "= product"]) head.append(element("th", {}, h));
      table.append(head);
      for (const t of worked.terms) {
        const tr = element("tr");
        tr.append(element("td", {}, label(t.index)), element("td", {}, w(t.input)), element("td", {}, w(t.weight)), element("td", {}, w(t.product)));
        table.append(tr);
      }
      panel.append(table);
      const count = worked.terms.length + worked.others;
      const parts = [];
      if (worked.others) parts.push(`The ${worked.terms.length} largest of the ${count} products of a non-zero input and its weight, by size; the other ${worked.others} add up to ${v(worked.rest)}`);
      else if (count) parts.push(`The ${count === 1 ? "one product" : `${count} products`} of a non-zero input and its weight, largest first`);
      if (worked.zeros && count) parts.push(worked.zeros === 1 ? "one input is 0 and adds nothing" : `${worked.zeros} inputs are 0 and add nothing`);
      else if (worked.zeros) parts.push(worked.zeros === 1 ? "The one input is 0: only the bias is left" : `All ${worked.zeros} inputs are 0: only the bias is left`);
      let step = "";
      if (m === 1) step = ` Each input is the depthwise step's channel k at this cell: channel k of ${first}, its window × its own kernel, summed.`;
      else if (m) step = ` Each input is the depthwise step's channel k at this cell: channel ⌊k / ${m}⌋ of ${first} (${m} kernels for each), its window × kernel k, summed.`;
      let after = `, the value shown (${v(shown)})`;
      if (worked.activation === "softmax") after = `, this unit's score; softmax over the layer's scores makes it ${v(shown)}`;
      else if (worked.activation) after = `; after ${worked.activation}, the layer shows ${v(shown)}`;
      say(`${parts.join("; ")}.${step} Σ input × weight + bias (${v(worked.bias)}) = ${v(worked.sum)}${after}.`);
      return;
    }
    case "affine":
      say(`${first}'s value ${v(worked.input)} × scale ${w(worked.scale)} + offset ${w(worked.offset)} = ${v(worked.value)}${AFFINE_NOTE[layer.type] ?? ""}.`);
      return;
    case "activation":
      if (worked.activation === "softmax") {
        const over = worked.perCell ? `this cell's ${worked.count} channels` : `the ${worked.count} scores`;
        say(`exp(${v(worked.input)} − ${v(worked.max)}) / ${v(worked.total)} = ${v(worked.value)}: the score from ${first}, less the largest score, exponentiated, over the sum of that for ${over} (so they add up to 1).`);
      } else {
        const settings = worked.settings ? ` (${worked.settings})` : "";
        say(`${worked.activation}(${v(worked.input)}) = ${v(worked.value)}${settings}, from ${first}'s value at the same place.`);
      }
      return;
    case "copy": {
      if (worked.from === null) {
        say(`This cell is padding: a zero, which is ${v(worked.value)}.`);
        return;
      }
      const dropout = "Dropout is off at inference: a copy of";
      const why = { Flatten: "Flatten reads its input in channels-last order: this is", Dropout: dropout, SpatialDropout2D: dropout }[layer.type] ?? "A copy of";
      say(`${why} ${first}${at(worked.from)} = ${v(worked.value)}.`);
      return;
    }
    case "add":
      say(`${worked.terms.map((t, k) => `${inputs[k]} ${v(t)}`).join(" + ")} = ${v(worked.value)}, added at the same place.`);
      return;
    case "concatenate":
      say(`Channel ${worked.channel} of the joined channels is channel ${worked.from} of ${inputs[worked.input]}: ${v(worked.value)}.`);
      return;
    case "global":
      say(
        worked.pooling === "max"
          ? `The largest of this channel's ${worked.count} values in ${first}, at row ${worked.at[0]}, column ${worked.at[1]}: ${v(worked.value)}.`
          : `The mean of this channel's ${worked.count} values in ${first}: ${v(worked.value)}.`,
      );
      return;
    default:
      say(`${title} = ${v(shown)}.`);
  }
}

/**
 * Draw an input of values in [0, 1] into a canvas of its size: one channel as gray
 * (white on black, as Fashion-MNIST shows), three as red, green, blue.
 */
export function drawPixels(canvas, pixels, channels = 1) {
  let rgba;
  if (channels === 1) rgba = colours(pixels, 0, 1, pixels.length, 1, false);
  else {
    const n = pixels.length / channels;
    rgba = new Uint8ClampedArray(4 * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) rgba[4 * i + k] = 255 * pixels[channels * i + k];
      rgba[4 * i + 3] = 255;
    }
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, canvas.width, canvas.height), 0, 0);
}

/**
 * Draw a saliency map (h x w values of at least 0) into the overlay canvas: red whose
 * opacity goes from 0 (transparent) to 1 at the map's largest value. Returns that value.
 */
export function drawSaliency(canvas, map) {
  let peak = 0;
  for (const v of map) if (v > peak) peak = v;
  const rgba = new Uint8ClampedArray(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    rgba[4 * i] = 255;
    rgba[4 * i + 1] = 32;
    rgba[4 * i + 2] = 32;
    rgba[4 * i + 3] = peak > 0 ? (255 * map[i]) / peak : 0;
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, canvas.width, canvas.height), 0, 0);
  return peak;
}
