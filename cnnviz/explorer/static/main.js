// Wiring: load and check the weights, then the input controls, the model
// columns and the unit panel. The one global: window.cnnvizExplorer.
import { convUnit, forward, poolUnit, receptiveBox } from "./layers.js";
import { parseWeights, WeightsError } from "./weights.js";
import { fashionMnistPixels, parseImages, stroke } from "./images.js";
import { buildModel, drawPixels, showConv, showPool, update } from "./view.js";

const $ = (id) => document.getElementById(id);
const SIZE = 28;

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
  const { manifest, arrays } = parsed;
  let samples = null;
  if (manifest.images) {
    try {
      const response = await fetch("images.json");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      samples = parseImages(await response.json(), parsed);
    } catch (error) {
      // The models still run on drawings and uploads; say why the picker is missing.
      $("upload-note").textContent = `The test images could not be loaded (${error.message}).`;
    }
  }
  start(manifest, arrays, samples);
}

function start(manifest, arrays, samples) {
  const models = manifest.models;
  const classNames = manifest.class_names;
  const pixels = new Float32Array(SIZE * SIZE);
  const canvas = $("draw");
  const box = $("box");
  const panel = $("unit-details");
  const perLayer = () => document.querySelector('input[name="scale"]:checked').value === "layer";
  let selected = null; // {model, layer, row, col, channel}
  let results = [];

  const run = (index, input) => forward(models[index], arrays[index], input);

  const columns = models.map((model, m) =>
    buildModel($("models"), model, classNames, (layer, row, col, channel) => {
      select({ model: m, layer, row, col, channel });
      // On a phone the panel is far above the tiles: bring the arithmetic into view.
      if (window.matchMedia("(max-width: 720px)").matches) $("unit").scrollIntoView();
    }),
  );

  function showUnit() {
    if (!selected) return;
    const { model: m, layer: l, row, col, channel } = selected;
    const model = models[m];
    const layer = model.layers[l];
    const input = l === 0 ? pixels : results[m].outputs[model.layers[l - 1].name];
    const inShape = l === 0 ? model.input_shape : model.layers[l - 1].output_shape;
    const shown = results[m].outputs[layer.name][(row * layer.output_shape[1] + col) * layer.output_shape[2] + channel];
    const title = `${model.key}: ${layer.name}[row ${row}, column ${col}, channel ${channel}]`;
    if (layer.type === "Conv2D") {
      const kShape = layer.arrays.find((a) => a.name === "kernel").shape;
      const a = arrays[m][l];
      const unit = convUnit(input, inShape, a.kernel, kShape, a.bias, layer.strides, layer.padding, row, col, channel);
      showConv(panel, title, unit, kShape, layer.activation, shown);
    } else if (layer.type === "MaxPooling2D" || layer.type === "AveragePooling2D") {
      const unit = poolUnit(input, inShape, layer.pool_size, layer.strides, layer.padding, row, col, channel);
      showPool(panel, title, unit, layer.pool_size, layer.type === "MaxPooling2D" ? "max" : "average", shown);
    } else {
      panel.textContent = `${title} = ${shown.toFixed(4)}. Click a unit of a convolution or a pooling to see how it is computed.`;
    }
    for (const tile of document.querySelectorAll(".tile.selected")) tile.classList.remove("selected");
    columns[m].layers[l].tiles?.[channel]?.classList.add("selected");
    const [top, left, bottom, right] = receptiveBox(model, l, row, col);
    box.hidden = false;
    box.style.top = `${(100 * top) / SIZE}%`;
    box.style.left = `${(100 * left) / SIZE}%`;
    box.style.height = `${(100 * (bottom - top + 1)) / SIZE}%`;
    box.style.width = `${(100 * (right - left + 1)) / SIZE}%`;
    $("box-note").textContent = `The box on the input: the ${bottom - top + 1}×${right - left + 1} pixels (rows ${top}–${bottom}, columns ${left}–${right}) that ${model.key}: ${layer.name}[${row}, ${col}] sees.`;
  }

  function redraw() {
    drawPixels(canvas, pixels);
    results = models.map((_, m) => run(m, pixels));
    columns.forEach((handles, m) => update(handles, results[m].outputs, classNames, perLayer()));
    showUnit();
  }

  // -- choosing a unit, by click or by the form -------------------------------------
  const form = { model: $("unit-model"), layer: $("unit-layer"), row: $("unit-row"), col: $("unit-col"), channel: $("unit-channel") };
  models.forEach((model, m) => form.model.append(new Option(model.key, String(m))));
  function fillLayers() {
    const m = Number(form.model.value);
    form.layer.replaceChildren(
      ...models[m].layers.flatMap((layer, l) => (layer.output_shape.length === 3 ? [new Option(`${layer.name} (${layer.type})`, String(l))] : [])),
    );
  }
  function limits() {
    const layer = models[Number(form.model.value)].layers[Number(form.layer.value)];
    [form.row.max, form.col.max, form.channel.max] = layer.output_shape.map((n) => n - 1);
  }
  function select(unit) {
    selected = unit;
    form.model.value = String(unit.model);
    fillLayers();
    form.layer.value = String(unit.layer);
    limits();
    form.row.value = unit.row;
    form.col.value = unit.col;
    form.channel.value = unit.channel;
    showUnit();
  }
  function fromForm() {
    limits();
    const clamp = (input) => Math.max(0, Math.min(Number(input.max), Math.floor(Number(input.value) || 0)));
    select({ model: Number(form.model.value), layer: Number(form.layer.value), row: clamp(form.row), col: clamp(form.col), channel: clamp(form.channel) });
  }
  form.model.addEventListener("change", () => {
    fillLayers();
    fromForm();
  });
  for (const input of [form.layer, form.row, form.col, form.channel]) input.addEventListener("change", fromForm);
  fillLayers();
  limits();

  // -- drawing with pointer events: mouse, touch, pen -------------------------------
  let last = null;
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * SIZE, ((event.clientY - rect.top) / rect.height) * SIZE];
  };
  const brush = () => Number($("brush").value);
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
    stroke(pixels, ...last, ...last, brush());
    $("picker").value = "";
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last === null) return;
    const point = at(event);
    stroke(pixels, ...last, ...point, brush());
    last = point;
    redraw(); // at once, not in the next frame: the page follows the pen
  });
  const end = () => {
    last = null;
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  $("clear").addEventListener("click", () => {
    pixels.fill(0);
    $("picker").value = "";
    redraw();
  });
  $("invert").addEventListener("click", () => {
    for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i];
    redraw();
  });
  for (const radio of document.querySelectorAll('input[name="scale"]')) radio.addEventListener("change", redraw);

  // -- test images by class ----------------------------------------------------------
  const picker = $("picker");
  if (samples) {
    const { bytes } = samples;
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
    const show = (i) => {
      for (let p = 0; p < SIZE * SIZE; p++) pixels[p] = bytes[i * SIZE * SIZE + p] / 255;
    };
    picker.addEventListener("change", () => {
      if (picker.value === "") return;
      show(Number(picker.value));
      redraw();
    });
    // Start from the first test image: a blank canvas shows only the biases.
    picker.value = "0";
    show(0);
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
      pixels.set(fashionMnistPixels(context.getImageData(0, 0, w, h).data, w, h));
      $("upload-note").textContent = `${file.name}: made 28×28 as described below.`;
      picker.value = "";
      redraw();
    } catch (error) {
      $("upload-note").textContent = `${file.name} could not be read as an image (${error.message}).`;
    }
  });

  const explorer = {
    models: models.map((model) => model.key),
    run(key, input) {
      const m = models.findIndex((model) => model.key === key);
      if (m < 0) throw new Error(`no model ${key}; the models are ${explorer.models.join(", ")}`);
      return run(m, Float32Array.from(input)).outputs;
    },
    pixels: () => Float32Array.from(pixels),
    setPixels(input) {
      pixels.set(input);
      redraw();
    },
  };
  window.cnnvizExplorer = explorer;
  redraw();
  $("status").textContent = "";
  document.body.dataset.state = "ready";
}

load();
