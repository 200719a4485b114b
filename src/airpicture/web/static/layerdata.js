// airpicture COP page: what the track layer draws, held in typed arrays that the page's
// deltas update in place: point sprites addressed by key (Points: mercator x, y and an atlas
// cell each) and line or triangle geometry (Lines: mercator x, y and a colour per vertex).
/* global Mercator */
"use strict";

const LayerData = (() => {
  const FLOATS = 3;          // per symbol: mercator x, mercator y, atlas cell (< 0: none)
  const LINE_BYTES = 12;     // per line vertex: float32 x, y; uint8 r, g, b, a
  const { mercX, mercY, lonOf, latOf } = Mercator;

  // A growable set of point sprites addressed by key: typed arrays, a free list.
  class Points {
    constructor(capacity = 1024) {
      this.data = new Float32Array(capacity * FLOATS);
      this.index = new Map();   // key -> slot
      this.keys = [];           // slot -> key (undefined: free)
      this.free = [];
      this.used = 0;            // slots 0..used-1 may hold a symbol
      this.dirty = true;
      this.version = 0;         // counts changes (screen positions are cached by it)
      this.layout = 0;          // counts changes other than moves (symbols added, removed, recoloured)
    }
    get size() { return this.index.size; }
    clear() {
      this.index.clear(); this.keys = []; this.free = []; this.used = 0; this.dirty = true;
      this.version += 1; this.layout += 1;
    }
    put(key, lon, lat, cell) {
      let i = this.index.get(key);
      if (i === undefined) {
        i = this.free.length ? this.free.pop() : this.used++;
        if (i * FLOATS >= this.data.length) {
          const grown = new Float32Array(this.data.length * 2);
          grown.set(this.data);
          this.data = grown;
        }
        this.index.set(key, i);
        this.keys[i] = key;
        this.layout += 1;
      }
      const d = this.data, o = i * FLOATS;
      if (d[o + 2] !== cell) this.layout += 1;
      d[o] = mercX(lon); d[o + 1] = mercY(lat); d[o + 2] = cell;
      this.dirty = true; this.version += 1;
    }
    move(key, lon, lat) {
      const i = this.index.get(key);
      if (i === undefined) return false;
      this.data[i * FLOATS] = mercX(lon);
      this.data[i * FLOATS + 1] = mercY(lat);
      this.dirty = true; this.version += 1;
      return true;
    }
    remove(key) {
      const i = this.index.get(key);
      if (i === undefined) return;
      this.data[i * FLOATS + 2] = -1;
      this.index.delete(key);
      this.keys[i] = undefined;
      this.free.push(i);
      this.dirty = true; this.version += 1; this.layout += 1;
    }
    lonLat(key) {
      const i = this.index.get(key);
      if (i === undefined) return null;
      return [lonOf(this.data[i * FLOATS]), latOf(this.data[i * FLOATS + 1])];
    }
  }

  // Line and triangle geometry in mercator coordinates, one colour per vertex.
  class Lines {
    constructor() {
      this.buf = new ArrayBuffer(LINE_BYTES * 4096);
      this.f32 = new Float32Array(this.buf);
      this.u8 = new Uint8Array(this.buf);
      this.n = 0;
    }
    reset() { this.n = 0; }
    vertex(x, y, rgba) {
      if ((this.n + 1) * LINE_BYTES > this.buf.byteLength) {
        const bigger = new ArrayBuffer(this.buf.byteLength * 2);
        new Uint8Array(bigger).set(this.u8);
        this.buf = bigger; this.f32 = new Float32Array(bigger); this.u8 = new Uint8Array(bigger);
      }
      const f = (this.n * LINE_BYTES) / 4, b = this.n * LINE_BYTES + 8;
      this.f32[f] = x; this.f32[f + 1] = y;
      this.u8[b] = rgba[0]; this.u8[b + 1] = rgba[1]; this.u8[b + 2] = rgba[2]; this.u8[b + 3] = rgba[3];
      this.n += 1;
    }
  }

  return { FLOATS, LINE_BYTES, Points, Lines };
})();
