// airpicture COP: the tracks as one MapLibre custom WebGL layer (CustomLayerInterface).
//
// Symbols are point sprites cut from a texture atlas of milsymbol icons (one cell per
// standard identity and track status), placed by their Web-Mercator coordinates (x east,
// y south, both 0..1 over the world) held in typed arrays that the page's deltas update in
// place: a 1 Hz update of 10,000 tracks is one bufferSubData, not a re-tiled GeoJSON source.
// Ellipses, leaders and trails are line (and triangle) geometry built by the page for the
// tracks it details, drawn by the same layer. The layer is drawn once per visible world copy
// (offset by whole worlds), so tracks on both sides of the antimeridian sit where they are;
// symbols, while the view is narrower than a world, in one draw: each in the world copy
// nearest the view's centre (with software GL, a clipped point still costs its setup).
// Screen positions for picking and labels are computed on the CPU from the last camera
// matrix, only when asked (a click, a label pass).
"use strict";

const TrackLayer = (() => {
  const FLOATS = 3;          // per symbol: mercator x, mercator y, atlas cell (< 0: none)
  const LINE_BYTES = 12;     // per line vertex: float32 x, y; uint8 r, g, b, a
  // Crowding: symbols shrink (to MIN_SCALE of their size at most) so that the tracks in view
  // cover about the map's area once (each symbol's square gets area / visible pixels, at
  // CROWD times their spacing); fewer pixels to fill, and a crowded picture stays legible.
  const MIN_SCALE = 0.45;
  const CROWD = 1.6;

  const POINT_VS = `
    attribute vec3 a_point;
    uniform mat4 u_matrix;
    uniform float u_offset, u_size, u_cols, u_wrap, u_center;
    varying vec2 v_cell;
    void main() {
      if (a_point.z < 0.0) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }
      float x = a_point.x + u_offset;
      if (u_wrap > 0.5) x += floor(u_center - x + 0.5);  // the world copy nearest the centre
      gl_Position = u_matrix * vec4(x, a_point.y, 0.0, 1.0);
      gl_PointSize = u_size;
      v_cell = vec2(mod(a_point.z, u_cols), floor(a_point.z / u_cols));
    }`;
  const POINT_FS = `
    precision highp float;
    uniform sampler2D u_atlas;
    uniform float u_cols, u_fill;   // u_fill: the drawn size over the cell size
    varying vec2 v_cell;
    void main() {
      vec2 uv = (v_cell + 0.5 + (gl_PointCoord - 0.5) * u_fill) / u_cols;
      vec4 c = texture2D(u_atlas, uv);
      if (c.a < 0.02) discard;
      gl_FragColor = c;
    }`;
  const LINE_VS = `
    attribute vec2 a_pos;
    attribute vec4 a_colour;
    uniform mat4 u_matrix;
    uniform float u_offset;
    varying vec4 v_colour;
    void main() {
      gl_Position = u_matrix * vec4(a_pos.x + u_offset, a_pos.y, 0.0, 1.0);
      v_colour = vec4(a_colour.rgb * a_colour.a, a_colour.a);
    }`;
  const LINE_FS = `
    precision mediump float;
    varying vec4 v_colour;
    void main() { gl_FragColor = v_colour; }`;

  const mercX = (lon) => (lon + 180) / 360;
  function mercY(lat) {
    const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  const lonOf = (x) => x * 360 - 180;
  const latOf = (y) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;

  function compile(gl, vs, fs) {
    const prog = gl.createProgram();
    for (const [type, text] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
      const sh = gl.createShader(type);
      gl.shaderSource(sh, text);
      gl.compileShader(sh);
      if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(sh));
      gl.attachShader(prog, sh);
    }
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
    const loc = {};
    const n = gl.getProgramParameter(prog, gl.ACTIVE_UNIFORMS);
    for (let i = 0; i < n; i++) {
      const name = gl.getActiveUniform(prog, i).name;
      loc[name] = gl.getUniformLocation(prog, name);
    }
    const na = gl.getProgramParameter(prog, gl.ACTIVE_ATTRIBUTES);
    for (let i = 0; i < na; i++) {
      const name = gl.getActiveAttrib(prog, i).name;
      loc[name] = gl.getAttribLocation(prog, name);
    }
    return { prog, loc };
  }

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
    }
    get size() { return this.index.size; }
    clear() {
      this.index.clear(); this.keys = []; this.free = []; this.used = 0; this.dirty = true; this.version += 1;
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
      }
      const d = this.data, o = i * FLOATS;
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
      this.dirty = true; this.version += 1;
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

  class Layer {
    // cells: the atlas cells (atlas.js); this.cell maps their names to cell numbers.
    constructor(id, cells) {
      this.id = id;
      this.type = "custom";
      this.renderingMode = "2d";
      this.cellList = cells;
      this.cell = Object.fromEntries(cells.map(([name], i) => [name, i]));
      this.tracks = new Points(8192);
      this.ghosts = new Points(256);
      this.selected = new Points(4);
      this.fills = new Lines();   // triangles
      this.lines = new Lines();   // line segments (pairs)
      this.linesDirty = true;
      this.matrix = null;
      this.frames = 0;
      this.scale = 1;             // symbol scale of the last frame (crowding)
      this.minScale = MIN_SCALE;
      this.cached = null;         // screen(), for the frame it was computed in
    }

    onAdd(map, gl) {
      this.map = map;
      this.pointProg = compile(gl, POINT_VS, POINT_FS);
      this.lineProg = compile(gl, LINE_VS, LINE_FS);
      this.buffers = { tracks: gl.createBuffer(), ghosts: gl.createBuffer(),
        selected: gl.createBuffer(), fills: gl.createBuffer(), lines: gl.createBuffer() };
      this.capacity = { tracks: 0, ghosts: 0, selected: 0, fills: 0, lines: 0 };
      this.buildAtlas(gl);
    }

    onRemove(map, gl) {
      for (const b of Object.values(this.buffers)) gl.deleteBuffer(b);
      gl.deleteTexture(this.atlas);
      gl.deleteProgram(this.pointProg.prog);
      gl.deleteProgram(this.lineProg.prog);
    }

    // Draws every cell's image, its anchor at the cell's centre, into one square canvas of
    // cols x cols cells of cellPx device pixels (the largest image decides cellPx).
    buildAtlas(gl) {
      const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
      this.ratio = ratio;
      const images = this.cellList.map(([name, make]) => [name, make(ratio)]);
      const half = ({ canvas, ax, ay }) =>
        Math.max(ax, canvas.width - ax, ay, canvas.height - ay);
      const cellPx = 2 * Math.ceil(Math.max(...images.map(([, im]) => half(im)))) + 2;
      const size = (im) => Math.min(cellPx, 2 * Math.ceil(half(im)) + 2);
      this.symbolPx = Math.max(...images.filter(([name]) => name.includes("/"))
        .map(([, im]) => size(im)));
      this.ghostPx = size(images.find(([name]) => name === "ghost")[1]);
      const cols = Math.ceil(Math.sqrt(images.length));
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = cols * cellPx;
      const ctx = canvas.getContext("2d");
      for (const [i, [, im]] of images.entries()) {
        const cx = (i % cols) * cellPx + cellPx / 2, cy = Math.floor(i / cols) * cellPx + cellPx / 2;
        ctx.drawImage(im.canvas, Math.round(cx - im.ax), Math.round(cy - im.ay));
      }
      this.cols = cols;
      this.cellPx = cellPx;
      this.atlas = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, this.atlas);
      gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, true);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, canvas);
      gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
      for (const [p, v] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
        gl.texParameteri(gl.TEXTURE_2D, p, v);
      }
    }

    upload(gl, name, bytes) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
      if (bytes.byteLength > this.capacity[name]) {
        gl.bufferData(gl.ARRAY_BUFFER, bytes.buffer.byteLength, gl.DYNAMIC_DRAW);
        this.capacity[name] = bytes.buffer.byteLength;
      }
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, bytes);
    }

    // The view's width in worlds (1: 360 degrees of longitude).
    viewWorlds() {
      const b = this.map.getBounds();
      return (b.getEast() - b.getWest()) / 360;
    }

    // The whole worlds to draw: offsets k with [k, k + 1] overlapping the view.
    worldOffsets() {
      const b = this.map.getBounds();
      const lo = Math.floor(mercX(b.getWest()) - 0.05), hi = Math.floor(mercX(b.getEast()) + 0.05);
      const out = [];
      for (let k = Math.max(lo, -2); k <= Math.min(hi, 2); k++) out.push(k);
      return out;
    }

    render(gl, matrix) {
      this.matrix = matrix;
      this.frames += 1;
      const offsets = this.worldOffsets();
      const s = this.screen();
      const spacing = Math.sqrt((s.w * s.h) / Math.max(s.visible, 1)) * this.ratio;
      this.scale = Math.max(this.minScale, Math.min(1, (CROWD * spacing) / this.symbolPx));
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.disable(gl.DEPTH_TEST);
      gl.disable(gl.STENCIL_TEST);
      gl.disable(gl.CULL_FACE);
      this.drawLines(gl, matrix, offsets);
      const p = this.pointProg;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.uniform1f(p.loc.u_cols, this.cols);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.atlas);
      gl.uniform1i(p.loc.u_atlas, 0);
      gl.enableVertexAttribArray(p.loc.a_point);
      // one draw, each symbol wrapped to the centre's copy, unless the view is over a world wide
      const wrap = offsets.length <= 2 && this.viewWorlds() < 1;
      gl.uniform1f(p.loc.u_wrap, wrap ? 1 : 0);
      gl.uniform1f(p.loc.u_center, mercX(this.map.getCenter().lng));
      const pointOffsets = wrap ? [0] : offsets;
      for (const [name, px] of [["ghosts", this.ghostPx], ["tracks", Math.round(this.symbolPx * this.scale)],
        ["selected", this.cellPx]]) {
        const set = this[name];
        if (set.used === 0) continue;
        if (set.dirty) { this.upload(gl, name, set.data.subarray(0, set.used * FLOATS)); set.dirty = false; }
        gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
        gl.vertexAttribPointer(p.loc.a_point, 3, gl.FLOAT, false, 0, 0);
        gl.uniform1f(p.loc.u_size, px);
        gl.uniform1f(p.loc.u_fill, px / this.cellPx);
        for (const k of pointOffsets) {
          gl.uniform1f(p.loc.u_offset, k);
          gl.drawArrays(gl.POINTS, 0, set.used);
        }
      }
      gl.disableVertexAttribArray(p.loc.a_point);
    }

    drawLines(gl, matrix, offsets) {
      if (this.linesDirty) {
        for (const name of ["fills", "lines"]) {
          const g = this[name];
          if (g.n) this.upload(gl, name, new Uint8Array(g.buf, 0, g.n * LINE_BYTES));
        }
        this.linesDirty = false;
      }
      if (!this.fills.n && !this.lines.n) return;
      const p = this.lineProg;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.enableVertexAttribArray(p.loc.a_pos);
      gl.enableVertexAttribArray(p.loc.a_colour);
      for (const [name, mode] of [["fills", gl.TRIANGLES], ["lines", gl.LINES]]) {
        const g = this[name];
        if (!g.n) continue;
        gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
        gl.vertexAttribPointer(p.loc.a_pos, 2, gl.FLOAT, false, LINE_BYTES, 0);
        gl.vertexAttribPointer(p.loc.a_colour, 4, gl.UNSIGNED_BYTE, true, LINE_BYTES, 8);
        for (const k of offsets) {
          gl.uniform1f(p.loc.u_offset, k);
          gl.drawArrays(mode, 0, g.n);
        }
      }
      gl.disableVertexAttribArray(p.loc.a_pos);
      gl.disableVertexAttribArray(p.loc.a_colour);
    }

    // Screen positions (CSS px in the map's canvas) of the tracks, each in the world copy
    // nearest the map's centre: {keys, x, y, w, h, visible} over the occupied slots (visible:
    // how many are on the canvas); null before the first frame. Computed once per frame.
    screen() {
      const m = this.matrix;
      if (!m) return null;
      if (this.cached && this.cached.frame === this.frames &&
          this.cached.version === this.tracks.version) return this.cached;
      const set = this.tracks, d = set.data, n = set.used;
      const canvas = this.map.getCanvas();
      const w = canvas.clientWidth, h = canvas.clientHeight;
      const cx = mercX(this.map.getCenter().lng);
      const x = new Float32Array(n), y = new Float32Array(n);
      let visible = 0;
      for (let i = 0; i < n; i++) {
        let mx = d[i * FLOATS];
        mx += Math.round(cx - mx);
        const my = d[i * FLOATS + 1];
        const cw = m[3] * mx + m[7] * my + m[15];
        const sx = ((m[0] * mx + m[4] * my + m[12]) / cw + 1) * 0.5 * w;
        const sy = (1 - (m[1] * mx + m[5] * my + m[13]) / cw) * 0.5 * h;
        x[i] = sx; y[i] = sy;
        if (d[i * FLOATS + 2] >= 0 && sx >= 0 && sx <= w && sy >= 0 && sy <= h) visible += 1;
      }
      this.cached = { keys: set.keys, x, y, w, h, visible, frame: this.frames,
        version: this.tracks.version };
      return this.cached;
    }

    // Keys of the tracks whose symbol centre lies on the map's canvas.
    visibleKeys() {
      const s = this.screen();
      if (!s) return [];
      const out = [];
      for (let i = 0; i < s.keys.length; i++) {
        const k = s.keys[i];
        if (k !== undefined && s.x[i] >= 0 && s.x[i] <= s.w && s.y[i] >= 0 && s.y[i] <= s.h) out.push(k);
      }
      return out;
    }

    // The key of the track nearest the CSS point (px, py) within radius px, or null.
    pick(px, py, radius) {
      const s = this.screen();
      if (!s) return null;
      let best = null, bestD = radius * radius;
      for (let i = 0; i < s.keys.length; i++) {
        if (s.keys[i] === undefined) continue;
        const dx = s.x[i] - px, dy = s.y[i] - py, dd = dx * dx + dy * dy;
        if (dd <= bestD) { best = s.keys[i]; bestD = dd; }
      }
      return best;
    }
  }

  return { Layer, mercX, mercY };
})();
