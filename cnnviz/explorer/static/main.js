// Wiring: load and check the weights, then the input controls, the model
// columns, the saliency overlay, the shift and the unit panel; the view lives
// in the page's URL. The one global: window.cnnvizExplorer.
import { convUnit, flattenedMap, forward, inputsOf, layerUnit, poolUnit, receptiveBox, saliency, scoreSource } from "./layers.js";
import { parseWeights, readModel, WeightsError } from "./weights.js";
import { colourPixels, fashionMnistPixels, parseImages, stroke } from "./images.js";
import { buildModel, drawPixels, drawSaliency, markUnit, showConv, showPool, showWorked, update } from "./view.js";
import { MAX_SHIFT, readView, shifted, writeView } from "./state.js";

const $ = (id) => document.getElementById(id);

function refuse(message) {
  const status = $("status");
  status.textContent = message;
  status.className = "error";
  document.body.dataset.state = "refused";
}

async function load() {
  let parsed;
  try {
    const response = await fetch("weights.bin");
    if (!response.ok) throw new WeightsError(`weights.bin could not be loaded (HTTP ${response.status})`);
    parsed = parseWeights(await response.arrayBuffer());
  } catch (error) {
    refuse(`The models were not loaded: ${error.message}`);
    return;
  }
  const { manifest } = parsed;
  let samples = null;
  if (manifest.images) {
    try {
      const response = await fetch("images.json");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      samples = parseImages(await response.json(), parsed, manifest.models[0].input_shape);
    } catch (error) {
      // The models still run on drawings and uploads; say why the picker is missing.
      $("upload-note").textContent = `The test images could not be loaded (${error.message}).`;
    }
  }
  start(manifest, samples);
}

/** Fetch and check model `m`'s weights file: its arrays, or a WeightsError. */
async function fetchModel(manifest, m) {
  const { file } = manifest.models[m].weights;
  const response = await fetch(file);
  if (!response.ok) throw new WeightsError(`${file} could not be loaded (HTTP ${response.status})`);
  return readModel(manifest, m, await response.arrayBuffer());
}

async function start(manifest, samples) {
  const models = manifest.models;
  const keys = models.map((model) => model.key);
  const classNames = manifest.class_names;
  // Every model takes one input shape (weights.js checks it): the page draws one.
  const shape = models[0].input_shape;
  const [H, W, C] = shape;
  const pixels = new Float32Array(H * W * C); // the drawing, before the shift
  let input = pixels; // what the models see: the drawing shifted
  const canvas = $("draw");
  const overlay = $("saliency");
  const box = $("box");
  const panel = $("unit-details");
  // The canvas takes the models' input size; the page's text says what it is.
  for (const c of [canvas, overlay]) [c.width, c.height] = [W, H];
  canvas.parentElement.style.aspectRatio = `${W} / ${H}`;
  $("input-heading").textContent = `Input (${H}×${W}${C === 3 ? ", colour" : ""})`;
  canvas.setAttribute("aria-label", `Drawing canvas, ${H} by ${W} pixels: draw with a mouse, a finger or a pen; arrow keys move the drawing`);
  if (C === 3) {
    $("upload-how").replaceChildren(
      Object.assign(document.createElement("summary"), { textContent: `How an upload becomes a ${H}×${W} image` }),
      Object.assign(document.createElement("p"), {
        textContent: `The largest centred part of the picture with the models' shape is scaled to ${H}×${W} pixels, each the mean of the area it covers, its colours kept. The brush paints white.`,
      }),
    );
  } else {
    $("upload-how").querySelector("summary").textContent = `How an upload becomes a ${H}×${W} image`;
  }
  const perLayer = () => document.querySelector('input[name="scale"]:checked').value === "layer";
  const view = {
    shown: new Set([0]),
    image: null, // the test image shown, or null for a drawing
    shift: [0, 0], // rows down, columns right
    target: null, // the class whose saliency is shown; null: the predicted one
    look: 0, // the model whose saliency is shown
    unit: null, // {model, layer, row, col, channel}
  };
  let results = [];
  // Each model's weights, fetched when the model is first shown: its arrays, or the
  // promise of them while they load.
  const arrays = models.map(() => null);
  const loading = models.map(() => null);
  function ensure(m) {
    loading[m] ??= fetchModel(manifest, m).then((loaded) => {
      arrays[m] = loaded;
      return loaded;
    });
    return loading[m];
  }

  const loaded = (m) => {
    if (!arrays[m]) throw new Error(`model ${keys[m]}'s weights are not loaded yet: show it first, or await cnnvizExplorer.load(key)`);
    return arrays[m];
  };
  const run = (m, values) => forward(models[m], loaded(m), values);

  const columns = models.map((model, m) =>
    buildModel($("models"), model, classNames, (layer, row, col, channel) => {
      select({ model: m, layer, row, col, channel });
      // On a phone the panel is far above the tiles: bring the arithmetic into view.
      if (window.matchMedia("(max-width: 720px)").matches) $("unit").scrollIntoView();
    }),
  );

  // -- which models are shown ----------------------------------------------------------
  const choice = $("model-choice");
  const boxes = models.map((model, m) => {
    const label = document.createElement("label");
    const check = document.createElement("input");
    check.type = "checkbox";
    check.value = String(m);
    check.addEventListener("change", async () => {
      if (check.checked) view.shown.add(m);
      else if (view.shown.size > 1) view.shown.delete(m);
      else check.checked = true; // one model at least
      await showShown();
    });
    label.append(check, ` ${model.key}`);
    choice.append(label);
    return check;
  });
  function showModels() {
    columns.forEach((handles, m) => {
      handles.column.hidden = !view.shown.has(m);
      boxes[m].checked = view.shown.has(m);
    });
    if (!view.shown.has(view.look)) view.look = [...view.shown][0];
    fillLooks();
  }
  /**
   * Show the models of view.shown, loading the weights of those not loaded yet.
   * Returns false, the page saying why, if a model's weights could not be used.
   */
  async function showShown() {
    showModels();
    const wanted = [...view.shown].filter((m) => !arrays[m]);
    for (const m of wanted) columns[m].prediction.textContent = "Loading the weights…";
    try {
      await Promise.all(wanted.map(ensure));
    } catch (error) {
      refuse(`The models were not loaded: ${error.message}`);
      return false;
    }
    redraw();
    return true;
  }

  // -- one unit, worked out --------------------------------------------------------------
  let marked = null; // the unit whose tile, bar or class row is marked
  function showUnit() {
    const unit = view.unit;
    if (!unit || !results[unit.model]) {
      box.hidden = true;
      return;
    }
    const { model: m, layer: l, row, col, channel } = unit;
    const model = models[m];
    const layer = model.layers[l];
    const run = results[m].runs;
    const from = inputsOf(model, l);
    const xs = from.map((i) => (i < 0 ? input : run[i].output));
    const shapes = from.map((i) => (i < 0 ? model.input_shape : run[i].shape));
    const flat = layer.output_shape.length !== 3;
    const cell = flat ? 0 : row * layer.output_shape[1] + col;
    const shown = run[l].output[cell * layer.output_shape.at(-1) + channel];
    // The output layer's units, and those of the layer whose scores its softmax reads, are classes.
    const scores = flat && (l === model.layers.length - 1 || l === scoreSource(model).layer) && layer.output_shape[0] === classNames.length;
    const where = flat ? `[unit ${channel}${scores ? `: ${classNames[channel]}` : ""}]` : `[row ${row}, column ${col}, channel ${channel}]`;
    const title = `${model.key}: ${layer.name}${where}`;
    if (layer.type === "Conv2D" || layer.type === "DepthwiseConv2D") {
      const kShape = layer.arrays.find((a) => a.name === "kernel").shape;
      const a = arrays[m][l];
      const depthwise = layer.type === "DepthwiseConv2D";
      const worked = convUnit(xs[0], shapes[0], a.kernel, kShape, a.bias, layer.strides, layer.padding, row, col, channel, depthwise);
      showConv(panel, title, worked, kShape, layer.activation, shown);
    } else if (layer.type === "MaxPooling2D" || layer.type === "AveragePooling2D") {
      const worked = poolUnit(xs[0], shapes[0], layer.pool_size, layer.strides, layer.padding, row, col, channel);
      showPool(panel, title, worked, layer.pool_size, layer.type === "MaxPooling2D" ? "max" : "average", shown);
    } else {
      const names = from.map((i) => (i < 0 ? "the input" : model.layers[i].name));
      const map = layer.type === "Dense" ? flattenedMap(model, l) : null;
      const flattened = map && { name: map.index < 0 ? "input" : model.layers[map.index].name, shape: map.shape };
      showWorked(panel, title, layerUnit(layer, xs, shapes, arrays[m][l], run[l], cell, channel), layer, names, shown, flattened);
    }
    if (marked !== `${m},${l},${channel}`) {
      // Only when the unit changes: showUnit runs on every redraw, while the pen moves.
      marked = `${m},${l},${channel}`;
      columns.forEach((column, mm) =>
        column.layers.forEach((handle, ll) => markUnit(handle, results[mm]?.outputs[handle.layer.name], mm === m && ll === l ? channel : null)),
      );
    }
    const seen = receptiveBox(model, l, row, col, channel);
    box.hidden = seen === null;
    if (seen === null) {
      $("box-note").textContent = `${title} sees only padding, no pixel.`;
      return;
    }
    const [top, left, bottom, right] = seen;
    box.style.top = `${(100 * top) / H}%`;
    box.style.left = `${(100 * left) / W}%`;
    box.style.height = `${(100 * (bottom - top + 1)) / H}%`;
    box.style.width = `${(100 * (right - left + 1)) / W}%`;
    $("box-note").textContent = `The box on the input: the ${bottom - top + 1}×${right - left + 1} pixels (rows ${top}–${bottom}, columns ${left}–${right}) that ${title} sees.`;
  }

  // -- saliency: where the chosen model looks, for the predicted or a chosen class --------
  const lookModel = $("look-model");
  const lookClass = $("look-class");
  lookClass.append(new Option("the predicted class", ""));
  classNames.forEach((name, k) => lookClass.append(new Option(name, String(k))));
  function fillLooks() {
    lookModel.replaceChildren(...[...view.shown].sort((a, b) => a - b).map((m) => new Option(models[m].key, String(m))));
    lookModel.value = String(view.look);
  }
  lookModel.addEventListener("change", () => {
    view.look = Number(lookModel.value);
    redraw();
  });
  lookClass.addEventListener("change", () => {
    view.target = lookClass.value === "" ? null : Number(lookClass.value);
    redraw();
  });
  $("look-show").addEventListener("change", redraw);

  function showSaliency() {
    const m = view.look;
    if (!results[m]) return;
    const model = models[m];
    const last = model.layers.at(-1);
    const scores = results[m].outputs[last.name];
    if (last.output_shape.length !== 1 || scores.length !== classNames.length) {
      overlay.hidden = true;
      $("look-note").textContent = `${model.key} gives ${last.output_shape.join("×")} values, not one score per class: no saliency to draw.`;
      return;
    }
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
    const target = view.target ?? best;
    const map = saliency(model, arrays[m], input, target, results[m]);
    const peak = drawSaliency(overlay, map);
    overlay.hidden = !$("look-show").checked;
    const softmax = last.type === "Softmax" || last.activation === "softmax";
    $("look-note").textContent =
      `${model.key}, ${classNames[target]}${view.target === null ? " (predicted)" : ""}: ` +
      `|∂ score / ∂ pixel|, the score being ${softmax ? "the class's input to the softmax" : "the model's output for the class"}; ` +
      `transparent at 0, opaque red at this map's largest value, ${peak.toPrecision(3)}.`;
  }

  function redraw() {
    input = shifted(pixels, H, W, ...view.shift, C);
    drawPixels(canvas, input, C);
    results = models.map((_, m) => (view.shown.has(m) && arrays[m] ? run(m, input) : null));
    columns.forEach((handles, m) => {
      if (results[m]) update(handles, results[m].outputs, classNames, perLayer());
    });
    showSaliency();
    showUnit();
    const [down, right] = view.shift;
    const moves = [down && `${Math.abs(down)} ${down > 0 ? "down" : "up"}`, right && `${Math.abs(right)} ${right > 0 ? "right" : "left"}`].filter(Boolean);
    $("shift-note").textContent = `The models see the drawing ${moves.length ? `moved ${moves.join(" and ")}` : "where it is"} (at most ${MAX_SHIFT} pixels each way).`;
    [$("shift-rows").value, $("shift-cols").value] = view.shift.map(String);
    keepView();
  }

  // The view goes into the URL once the reader pauses, not on every pointer move:
  // encoding the drawing and replacing the history entry 60 times a second is work the
  // pen does not need, and browsers throttle a page that replaces its URL that often.
  let pendingView = null;
  function keepView() {
    clearTimeout(pendingView);
    pendingView = setTimeout(writeViewNow, 250);
  }
  function writeViewNow() {
    clearTimeout(pendingView);
    pendingView = null;
    writeView(window, view, keys, models, view.image === null ? pixels : null);
  }

  // -- choosing a unit, by click or by the form -------------------------------------
  const form = { model: $("unit-model"), layer: $("unit-layer"), row: $("unit-row"), col: $("unit-col"), channel: $("unit-channel") };
  models.forEach((model, m) => form.model.append(new Option(model.key, String(m))));
  function fillLayers() {
    const m = Number(form.model.value);
    form.layer.replaceChildren(
      ...models[m].layers.map((layer, l) => new Option(`${layer.name} (${layer.type})`, String(l))),
    );
  }
  function limits() {
    const shape = models[Number(form.model.value)].layers[Number(form.layer.value)].output_shape;
    const flat = shape.length !== 3; // one unit per index: row and column are 0
    [form.row.max, form.col.max, form.channel.max] = flat ? [0, 0, shape[0] - 1] : shape.map((n) => n - 1);
    form.row.disabled = form.col.disabled = flat;
  }
  function fillForm(unit) {
    form.model.value = String(unit.model);
    fillLayers();
    form.layer.value = String(unit.layer);
    limits();
    form.row.value = unit.row;
    form.col.value = unit.col;
    form.channel.value = unit.channel;
  }
  function select(unit) {
    view.unit = unit;
    fillForm(unit);
    if (!view.shown.has(unit.model)) {
      view.shown.add(unit.model);
      showShown();
      return;
    }
    showUnit();
    writeViewNow();
  }
  function fromForm() {
    limits();
    const clamp = (field) => Math.max(0, Math.min(Number(field.max), Math.floor(Number(field.value) || 0)));
    select({ model: Number(form.model.value), layer: Number(form.layer.value), row: clamp(form.row), col: clamp(form.col), channel: clamp(form.channel) });
  }
  form.model.addEventListener("change", () => {
    fillLayers();
    fromForm();
  });
  for (const field of [form.layer, form.row, form.col, form.channel]) field.addEventListener("change", fromForm);
  fillLayers();
  limits();

  // -- drawing and moving with pointer events: mouse, touch, pen; arrow keys move -------
  let last = null;
  let grab = null; // where a move started: the pointer and the shift
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * W, ((event.clientY - rect.top) / rect.height) * H];
  };
  const moving = () => document.querySelector('input[name="pen"]:checked').value === "move";
  const brush = () => Number($("brush").value);
  const clampShift = (v) => Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, Math.round(v)));
  function setShift(rows, cols) {
    const next = [clampShift(rows), clampShift(cols)];
    if (next[0] === view.shift[0] && next[1] === view.shift[1]) return;
    view.shift = next;
    redraw();
  }
  // A stroke lands on the drawing where it shows: the shift taken back.
  const unshift = ([x, y]) => [x - view.shift[1], y - view.shift[0]];
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    if (moving()) {
      grab = { point: at(event), shift: [...view.shift] };
      return;
    }
    last = unshift(at(event));
    stroke(pixels, ...last, ...last, brush(), shape);
    forget();
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (grab) {
      const [x, y] = at(event);
      setShift(grab.shift[0] + y - grab.point[1], grab.shift[1] + x - grab.point[0]);
      return;
    }
    if (last === null) return;
    const point = unshift(at(event));
    stroke(pixels, ...last, ...point, brush(), shape);
    last = point;
    redraw(); // at once, not in the next frame: the page follows the pen
  });
  const end = () => {
    if (last !== null || grab !== null) writeViewNow(); // the stroke or move is done
    last = null;
    grab = null;
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  const ARROWS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  canvas.addEventListener("keydown", (event) => {
    const step = ARROWS[event.key];
    if (!step) return;
    event.preventDefault();
    setShift(view.shift[0] + step[0], view.shift[1] + step[1]);
  });
  $("shift-rows").addEventListener("input", () => setShift(Number($("shift-rows").value), view.shift[1]));
  $("shift-cols").addEventListener("input", () => setShift(view.shift[0], Number($("shift-cols").value)));
  $("shift-reset").addEventListener("click", () => setShift(0, 0));

  // The drawing is no longer a test image once it is drawn on.
  function forget() {
    view.image = null;
    $("picker").value = "";
  }
  $("clear").addEventListener("click", () => {
    pixels.fill(0);
    forget();
    redraw();
  });
  $("invert").addEventListener("click", () => {
    for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i];
    forget();
    redraw();
  });
  for (const radio of document.querySelectorAll('input[name="scale"]')) radio.addEventListener("change", redraw);

  // -- test images by class ----------------------------------------------------------
  const picker = $("picker");
  const showImage = (i) => {
    for (let p = 0; p < pixels.length; p++) pixels[p] = samples.bytes[i * pixels.length + p] / 255;
    view.image = i;
    picker.value = String(i);
  };
  if (samples) {
    const count = {};
    classNames.forEach((name, k) => {
      const group = document.createElement("optgroup");
      group.label = name;
      samples.labels.forEach((label, i) => {
        if (label === k) {
          count[k] = (count[k] ?? 0) + 1;
          group.append(new Option(`${name} ${count[k]}`, String(i)));
        }
      });
      if (group.children.length) picker.append(group);
    });
    picker.addEventListener("change", () => {
      if (picker.value === "") return;
      showImage(Number(picker.value));
      redraw();
    });
  } else {
    $("picker-label").hidden = true;
  }

  // -- upload: any picture, made Fashion-MNIST-like ----------------------------------
  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, 512 / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(1, Math.round(bitmap.width * scale));
      const h = Math.max(1, Math.round(bitmap.height * scale));
      const work = new OffscreenCanvas(w, h);
      const context = work.getContext("2d");
      context.drawImage(bitmap, 0, 0, w, h);
      const rgba = context.getImageData(0, 0, w, h).data;
      pixels.set(C === 1 ? fashionMnistPixels(rgba, w, h, H, W) : colourPixels(rgba, w, h, H, W));
      $("upload-note").textContent = `${file.name}: made ${H}×${W} as described below.`;
      forget();
      redraw();
    } catch (error) {
      $("upload-note").textContent = `${file.name} could not be read as an image (${error.message}).`;
    }
  });

  // -- the view from the URL: a shared link opens what its sender saw -------------------
  function restore() {
    const { view: wanted, drawing, problems } = readView(window.location.hash, keys, models, classNames.length, samples ? samples.labels.length : 0, shape);
    Object.assign(view, wanted);
    if (view.image !== null) showImage(view.image);
    else if (drawing) pixels.set(drawing);
    else if (samples) showImage(0); // a blank canvas shows only the biases
    lookClass.value = view.target === null ? "" : String(view.target);
    showModels();
    if (view.unit) fillForm(view.unit);
    $("url-note").textContent = problems.length ? `Parts of the link were left out: ${problems.join("; ")}.` : "";
  }
  window.addEventListener("hashchange", async () => {
    restore();
    await showShown();
  });

  const explorer = {
    models: keys,
    run(key, values) {
      return run(index(key), Float32Array.from(values)).outputs;
    },
    saliency(key, values, classIndex) {
      const m = index(key);
      return saliency(models[m], loaded(m), Float32Array.from(values), classIndex);
    },
    pixels: () => Float32Array.from(pixels),
    input: () => Float32Array.from(input),
    setPixels(values) {
      pixels.set(values);
      forget();
      redraw();
      writeViewNow();
    },
    view: () => structuredClone(view),
    /** Load a model's weights (without showing it), so that run and saliency take it. */
    async load(key) {
      await ensure(index(key));
    },
  };
  function index(key) {
    const m = keys.indexOf(key);
    if (m < 0) throw new Error(`no model ${key}; the models are ${keys.join(", ")}`);
    return m;
  }
  window.cnnvizExplorer = explorer;
  restore();
  if (!(await showShown())) return; // said on the page
  $("status").textContent = "";
  document.body.dataset.state = "ready";
}

load();
