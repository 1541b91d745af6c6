// Reading the weights file: magic, manifest, checksum, then float32 views.
// The format is documented in cnnviz/explorer/__init__.py. SHA-256 is computed
// here, in plain JavaScript, rather than with crypto.subtle, which browsers
// offer only on https and localhost pages: the explorer must check its weights
// on any static host. No DOM here: this module runs under `node --test`.

export const MAGIC = "CNNVIZW1";

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of `bytes` (a Uint8Array), as 64 lowercase hex digits (FIPS 180-4). */
export function sha256(bytes) {
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);
  const hash = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + 4 * t);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[t] + w[t]) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) hash[i] = (hash[i] + next[i]) >>> 0;
  }
  return Array.from(hash, (x) => x.toString(16).padStart(8, "0")).join("");
}

/** Raised for a weights file the page must not use; its message is shown to the reader. */
export class WeightsError extends Error {
  constructor(message) {
    super(message);
    this.name = "WeightsError";
  }
}

/**
 * Parse a weights file (ArrayBuffer). Returns {manifest, arrays} where
 * arrays[m][i] maps each array name of layer i of model m to a Float32Array.
 * Throws WeightsError if the magic, the manifest or the SHA-256 is wrong.
 */
export function parseWeights(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < 12 || magic !== MAGIC) {
    throw new WeightsError(`this is not a cnnviz weights file (it does not start with ${MAGIC})`);
  }
  const size = new DataView(buffer, 8, 4).getUint32(0, true);
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + size)));
  } catch (error) {
    throw new WeightsError(`the weights file's manifest is not valid JSON (${error.message})`);
  }
  const start = 12 + size;
  const data = bytes.subarray(start);
  const digest = sha256(data);
  if (data.length !== manifest.data_bytes || digest !== manifest.sha256) {
    throw new WeightsError(
      `the weights file is damaged or was changed: its data has SHA-256 ${digest} ` +
        `(${data.length} bytes), but its manifest says ${manifest.sha256} ` +
        `(${manifest.data_bytes} bytes). The page will not run weights it cannot trust.`,
    );
  }
  // Float32Array views need 4-byte alignment, which the writer guarantees; a
  // little-endian machine (every browser's) reads the values as written.
  const arrays = manifest.models.map((model) =>
    model.layers.map((layer) => {
      const named = {};
      for (const a of layer.arrays) named[a.name] = new Float32Array(buffer, start + a.offset, a.length);
      return named;
    }),
  );
  return { manifest, arrays };
}
