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
//
// Frame cache: with software GL (SwiftShader) 10,000 point sprites cost most of a frame:
// about 2 million fragments of small primitives, and their cost is the rasterising (a flat
// colour costs as much as the atlas lookup; point sprites less than two triangles each). A
// moving map redraws every frame, so the layer draws its tracks and lines (in prerender,
// MapLibre's offscreen pass) into a texture a margin larger than the canvas, and each frame
// draws that texture over the map by the TILE squares it uses, placed by their mercator
// corners. With no pitch, a pan or zoom moves the whole screen by one scale and shift, so
// every symbol of a cached frame is at its true position; the cache is drawn afresh when
// symbols are added, removed or recoloured or one has moved MOVE_PX since, when the lines
// change, when the bearing or canvas size changes (a pitched map is drawn directly), when the
// view leaves the texture, when the symbols' size in the texture (scaled with the zoom) is off
// by more than SIZE_SLACK from what a fresh frame would draw (crowding), and once the camera
// has rested SETTLE_MS or a frame repeats the last one's camera. Ghost rings and the
// selection ring are few and fixed in size: drawn live every frame.
"use strict";

const TrackLayer = (() => {
  const FLOATS = 3;          // per symbol: mercator x, mercator y, atlas cell (< 0: none)
  const LINE_BYTES = 12;     // per line vertex: float32 x, y; uint8 r, g, b, a
  // Crowding: symbols shrink (to MIN_SCALE of their size at most) so that the tracks in view
  // cover about the map's area once (each symbol's square gets area / visible pixels, at
  // CROWD times their spacing); fewer pixels to fill, and a crowded picture stays legible.
  const MIN_SCALE = 0.45;
  const CROWD = 1.6;
  // Frame cache: the texture's margin beyond the canvas on each side (a share of the longer
  // side), the largest error in symbol size a cached frame may show (a share of the fresh
  // size, at least 1 px), and how long the camera rests before an exact redraw.
  const MARGIN = 0.125;
  const SIZE_SLACK = 0.1;
  const SETTLE_MS = 300;
  const TILE = 32;           // texture px: the frame cache is drawn by the squares it uses
  const MOVE_PX = 0.5;       // a cached frame's symbols are at most this far from their place

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
  const QUAD_VS = `
    attribute vec4 a_quad;   // mercator x, y; texture u, v
    uniform mat4 u_matrix;
    uniform float u_offset;
    varying vec2 v_uv;
    void main() {
      gl_Position = u_matrix * vec4(a_quad.x + u_offset, a_quad.y, 0.0, 1.0);
      v_uv = a_quad.zw;
    }`;
  const QUAD_FS = `
    precision mediump float;
    uniform sampler2D u_frame;
    varying vec2 v_uv;
    void main() { gl_FragColor = texture2D(u_frame, v_uv); }`;

  const mercX = (lon) => (lon + 180) / 360;
  function mercY(lat) {
    const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  // The mercator point (z = 0) that matrix m puts at normalised device coordinates (X, Y).
  function ndcToMerc(m, X, Y) {
    const a = m[0] - X * m[3], b = m[4] - X * m[7], e = X * m[15] - m[12];
    const c = m[1] - Y * m[3], d = m[5] - Y * m[7], f = Y * m[15] - m[13];
    const det = a * d - b * c;
    return [(e * d - b * f) / det, (a * f - e * c) / det];
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

  function setFilter(gl, filter) {
    for (const [p, v] of [[gl.TEXTURE_MIN_FILTER, filter], [gl.TEXTURE_MAG_FILTER, filter],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
      gl.texParameteri(gl.TEXTURE_2D, p, v);
    }
  }

  function sameMatrix(a, b) {
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
    return true;
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
      this.frames = 0;            // frames drawn
      this.fresh = 0;             // of them, drawn afresh (not from the frame cache)
      this.redraws = {};          // fresh frames by reason (redrawReason; "direct": no cache)
      this.scale = 1;             // symbol scale of the last frame (crowding)
      this.minScale = MIN_SCALE;
      this.cached = null;         // screen(), for the frame it was computed in
      this.useCache = true;       // false: draw every frame afresh (for comparison)
      this.frame = null;          // the frame cache: {fbo, texture, w, h, ...} (see the top)
      this.exact = true;          // the last frame shows what a fresh frame would
      this.lastMatrix = null;
      this.stale = false;         // the frame cache is to be drawn afresh
      this.settleTimer = null;
      this.settleMs = SETTLE_MS;
    }

    onAdd(map, gl) {
      this.map = map;
      this.pointProg = compile(gl, POINT_VS, POINT_FS);
      this.lineProg = compile(gl, LINE_VS, LINE_FS);
      this.quadProg = compile(gl, QUAD_VS, QUAD_FS);
      this.buffers = { tracks: gl.createBuffer(), ghosts: gl.createBuffer(),
        selected: gl.createBuffer(), fills: gl.createBuffer(), lines: gl.createBuffer(),
        quad: gl.createBuffer() };
      this.capacity = { tracks: 0, ghosts: 0, selected: 0, fills: 0, lines: 0, quad: 0 };
      this.buildAtlas(gl);
    }

    onRemove(map, gl) {
      clearTimeout(this.settleTimer);
      for (const b of Object.values(this.buffers)) gl.deleteBuffer(b);
      gl.deleteTexture(this.atlas);
      this.dropFrame(gl);
      for (const p of [this.pointProg, this.lineProg, this.quadProg]) gl.deleteProgram(p.prog);
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
      setFilter(gl, gl.LINEAR);
    }

    upload(gl, name, bytes) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
      if (bytes.byteLength > this.capacity[name]) {
        gl.bufferData(gl.ARRAY_BUFFER, bytes.buffer.byteLength, gl.DYNAMIC_DRAW);
        this.capacity[name] = bytes.buffer.byteLength;
      }
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, bytes);
    }

    // The whole worlds to draw: offsets k with [k, k + 1] overlapping mercator x0..x1.
    static worldOffsets(x0, x1) {
      const out = [];
      for (let k = Math.max(Math.floor(x0), -2); k <= Math.min(Math.floor(x1), 2); k++) out.push(k);
      return out;
    }

    // The symbol size (device px) a fresh frame draws now: crowding (see the top).
    freshSymbolPx() {
      const s = this.screen();
      const spacing = Math.sqrt((s.w * s.h) / Math.max(s.visible, 1)) * this.ratio;
      this.scale = Math.max(this.minScale, Math.min(1, (CROWD * spacing) / this.symbolPx));
      return Math.round(this.symbolPx * this.scale);
    }

    // MapLibre's offscreen pass, before the map's own layers: draw the tracks and lines into
    // the frame cache when it will not do (or straight onto the map in render, without one).
    prerender(gl, matrix) {
      this.matrix = matrix;
      this.frames += 1;
      const px = this.freshSymbolPx();
      const still = this.lastMatrix !== null && sameMatrix(this.lastMatrix, matrix);
      this.lastMatrix = Float64Array.from(matrix);
      this.direct = !this.useCache || this.map.getPitch() !== 0;
      const why = this.direct ? "direct" : this.redrawReason(gl, matrix, px, still);
      if (why === null) {
        this.exact = sameMatrix(this.frame.matrix, matrix);
        if (!this.exact) this.settleLater();
        return;
      }
      this.fresh += 1;
      this.redraws[why] = (this.redraws[why] || 0) + 1;
      this.exact = true;
      if (!this.direct) this.drawFrame(gl, matrix, px);
      if (!this.frame) this.direct = true;  // drawn in render, straight onto the map
      if (this.direct) this.dropFrame(gl);
    }

    // Why the frame cache will not do for this frame (see the top), or null when it will.
    redrawReason(gl, matrix, px, still) {
      const f = this.frame;
      if (!f) return "first";
      if (f.w !== gl.drawingBufferWidth || f.h !== gl.drawingBufferHeight) return "resize";
      if (this.stale || (still && !this.exact)) return "settle";
      if (!this.unmoved(f, matrix)) return "tracks";
      if (this.linesDirty) return "lines";
      if (f.bearing !== this.map.getBearing()) return "bearing";
      if (!this.covers(f, matrix)) return "view";
      const shown = f.px * 2 ** (this.map.getZoom() - f.zoom);
      if (Math.abs(shown - px) > Math.max(1, SIZE_SLACK * px)) return "size";
      return null;
    }

    render(gl, matrix) {
      this.matrix = matrix;
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.disable(gl.DEPTH_TEST);
      gl.disable(gl.STENCIL_TEST);
      gl.disable(gl.CULL_FACE);
      const b = this.map.getBounds();
      const x0 = mercX(b.getWest()), x1 = mercX(b.getEast());
      const offsets = Layer.worldOffsets(x0 - 0.05, x1 + 0.05);
      const center = mercX(this.map.getCenter().lng);
      // one draw, each symbol wrapped to the centre's copy, unless the view is over a world wide
      const wrap = offsets.length <= 2 && x1 - x0 < 1;
      this.drawPoints(gl, matrix, "ghosts", this.ghostPx, offsets, wrap, center);
      if (this.direct) {
        this.drawLines(gl, matrix, offsets);
        this.drawPoints(gl, matrix, "tracks", Math.round(this.symbolPx * this.scale), offsets,
          wrap, center);
      } else if (this.frame && this.frame.vertices) {
        this.drawQuad(gl, matrix, center);
      }
      this.drawPoints(gl, matrix, "selected", this.cellPx, offsets, wrap, center);
    }

    // Draws the tracks and lines into the frame cache (made or resized as needed), for the
    // canvas plus a margin: the camera matrix scaled so that the canvas's clip square maps
    // onto the texture's inner part.
    drawFrame(gl, matrix, px) {
      const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
      let f = this.frame;
      if (!f || f.w !== w || f.h !== h) {
        this.dropFrame(gl);
        f = this.makeFrame(gl, w, h);
        if (!f) { this.useCache = false; return; }  // no such texture here: draw directly
        this.frame = f;
      }
      const kx = w / f.tw, ky = h / f.th;
      const fm = Float32Array.from(matrix);
      for (const i of [0, 4, 8, 12]) { fm[i] *= kx; fm[i + 1] *= ky; }
      // the texture's corners (u, v) = (0, 0), (1, 0), (0, 1) on the ground (mercator)
      const corners = [[0, 0], [1, 0], [0, 1]].map(([u, v]) =>
        ndcToMerc(matrix, (2 * u - 1) / kx, (2 * v - 1) / ky));
      const x1s = [corners[0][0], corners[1][0], corners[2][0],
        corners[1][0] + corners[2][0] - corners[0][0]];
      Object.assign(f, { matrix: Float64Array.from(matrix), zoom: this.map.getZoom(), px,
        bearing: this.map.getBearing(), x0: Math.min(...x1s), x1: Math.max(...x1s),
        center: mercX(this.map.getCenter().lng), corners });
      const offsets = Layer.worldOffsets(f.x0, f.x1);
      const wrap = offsets.length <= 2 && f.x1 - f.x0 < 1;
      gl.bindFramebuffer(gl.FRAMEBUFFER, f.fbo);
      gl.viewport(0, 0, f.tw, f.th);
      gl.disable(gl.SCISSOR_TEST);
      gl.colorMask(true, true, true, true);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.disable(gl.DEPTH_TEST);
      gl.disable(gl.STENCIL_TEST);
      gl.disable(gl.CULL_FACE);
      this.drawLines(gl, fm, offsets);
      this.drawPoints(gl, fm, "tracks", px, offsets, wrap, f.center);
      this.buildQuads(gl, f, fm, offsets, wrap, px);
      f.version = this.tracks.version;
      f.layout = this.tracks.layout;
      f.positions = this.tracks.data.slice(0, this.tracks.used * FLOATS);
      this.stale = false;
    }

    // Whether the cache's tracks are still where they are: the same symbols, none moved by
    // more than MOVE_PX device px since it was drawn (at a whole-region zoom an airliner
    // crosses a pixel in about a minute: a 1 Hz picture update need not redraw 10,000 symbols).
    unmoved(f, m) {
      const t = this.tracks;
      if (f.version === t.version) return true;
      if (f.layout !== t.layout || f.positions.length !== t.used * FLOATS) return false;
      const perUnit = Math.hypot(m[0] * f.w, m[1] * f.h) / 2 / Math.abs(m[15]);  // px per mercator unit
      const limit = MOVE_PX / perUnit, d = t.data, p = f.positions;
      for (let i = 0; i < p.length; i += FLOATS) {
        if (Math.abs(d[i] - p[i]) > limit || Math.abs(d[i + 1] - p[i + 1]) > limit) return false;
      }
      f.version = t.version;
      return true;
    }

    // The frame cache is drawn only where it holds something: the texture's TILE x TILE
    // squares that a symbol (px wide), a line or a triangle touches, as rows of runs, each
    // a rectangle of two triangles with its mercator corners and texture coordinates.
    buildQuads(gl, f, fm, offsets, wrap, px) {
      const cols = Math.ceil(f.tw / TILE), rows = Math.ceil(f.th / TILE);
      const used = new Uint8Array(cols * rows);
      const mark = (ax, ay, bx, by) => {  // a box in texture px (from the bottom left)
        const c0 = Math.max(0, Math.floor(ax / TILE)), c1 = Math.min(cols - 1, Math.floor(bx / TILE));
        const r0 = Math.max(0, Math.floor(ay / TILE)), r1 = Math.min(rows - 1, Math.floor(by / TILE));
        for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) used[r * cols + c] = 1;
      };
      const tx = (x, y) => ((fm[0] * x + fm[4] * y + fm[12]) / (fm[3] * x + fm[7] * y + fm[15]) + 1) * 0.5 * f.tw;
      const ty = (x, y) => ((fm[1] * x + fm[5] * y + fm[13]) / (fm[3] * x + fm[7] * y + fm[15]) + 1) * 0.5 * f.th;
      const half = px / 2 + 1;
      const d = this.tracks.data;
      for (let i = 0; i < this.tracks.used; i++) {
        if (d[i * FLOATS + 2] < 0) continue;
        let x = d[i * FLOATS];
        const y = d[i * FLOATS + 1];
        if (wrap) x += Math.floor(f.center - x + 0.5);
        for (const k of wrap ? [0] : offsets) {
          const sx = tx(x + k, y), sy = ty(x + k, y);
          mark(sx - half, sy - half, sx + half, sy + half);
        }
      }
      for (const [g, per] of [[this.lines, 2], [this.fills, 3]]) {
        for (const k of offsets) {
          for (let i = 0; i + per <= g.n; i += per) {
            let ax = Infinity, ay = Infinity, bx = -Infinity, by = -Infinity;
            for (let j = i; j < i + per; j++) {
              const o = (j * LINE_BYTES) / 4, x = g.f32[o] + k, y = g.f32[o + 1];
              const sx = tx(x, y), sy = ty(x, y);
              ax = Math.min(ax, sx); bx = Math.max(bx, sx); ay = Math.min(ay, sy); by = Math.max(by, sy);
            }
            mark(ax - 1, ay - 1, bx + 1, by + 1);
          }
        }
      }
      const [c00, c10, c01] = f.corners;
      const out = [];
      const vertex = (pxx, pyy) => {
        const u = Math.min(pxx / f.tw, 1), v = Math.min(pyy / f.th, 1);
        out.push(c00[0] + u * (c10[0] - c00[0]) + v * (c01[0] - c00[0]),
          c00[1] + u * (c10[1] - c00[1]) + v * (c01[1] - c00[1]), u, v);
      };
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          if (!used[r * cols + c]) continue;
          const c0 = c;
          while (c + 1 < cols && used[r * cols + c + 1]) c++;
          const ax = c0 * TILE, bx = (c + 1) * TILE, ay = r * TILE, by = (r + 1) * TILE;
          vertex(ax, ay); vertex(bx, ay); vertex(ax, by);
          vertex(ax, by); vertex(bx, ay); vertex(bx, by);
        }
      }
      f.vertices = out.length / 4;
      if (f.vertices) this.upload(gl, "quad", new Float32Array(out));
    }

    // A frame cache for a w x h canvas: a texture MARGIN wider on each side (less where the
    // GL's largest texture is smaller) as a framebuffer's colour; null if the GL has none.
    makeFrame(gl, w, h) {
      const largest = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE),
        ...gl.getParameter(gl.MAX_VIEWPORT_DIMS));
      const m = Math.min(Math.round(MARGIN * Math.max(w, h)), Math.floor((largest - Math.max(w, h)) / 2));
      if (m < 0) return null;
      const f = { w, h, m, tw: w + 2 * m, th: h + 2 * m,
        texture: gl.createTexture(), fbo: gl.createFramebuffer() };
      gl.bindTexture(gl.TEXTURE_2D, f.texture);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, f.tw, f.th, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      // nearest texel: exact at rest (texel for pixel), crisp in a pan (within half a pixel),
      // and a tenth of a frame cheaper than linear with software GL; a zoom shows at most
      // SIZE_SLACK of scaling before a fresh frame
      setFilter(gl, gl.NEAREST);
      gl.bindFramebuffer(gl.FRAMEBUFFER, f.fbo);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, f.texture, 0);
      if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) {
        gl.deleteFramebuffer(f.fbo);
        gl.deleteTexture(f.texture);
        return null;
      }
      return f;
    }

    dropFrame(gl) {
      if (!this.frame) return;
      gl.deleteFramebuffer(this.frame.fbo);
      gl.deleteTexture(this.frame.texture);
      this.frame = null;
    }

    // Whether the frame cache holds the whole canvas under camera matrix m: each corner of
    // the canvas, on the ground, put back through the cache's camera, falls in the texture.
    covers(f, m) {
      const k = Math.round(mercX(this.map.getCenter().lng) - f.center);  // whole worlds apart
      const kx = f.w / f.tw, ky = f.h / f.th, o = f.matrix;
      for (const [X, Y] of [[-1, -1], [1, -1], [-1, 1], [1, 1]]) {
        const [x, y] = ndcToMerc(m, X, Y);
        const cw = o[3] * (x - k) + o[7] * y + o[15];
        const ox = (o[0] * (x - k) + o[4] * y + o[12]) / cw, oy = (o[1] * (x - k) + o[5] * y + o[13]) / cw;
        if (!(Math.abs(ox * kx) <= 1 && Math.abs(oy * ky) <= 1)) return false;
      }
      return true;
    }

    // An exact frame once the camera has rested SETTLE_MS.
    settleLater() {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => {
        if (!this.exact) { this.stale = true; this.map.triggerRepaint(); }
      }, this.settleMs);
    }

    drawQuad(gl, matrix, center) {
      const f = this.frame, p = this.quadProg;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.uniform1f(p.loc.u_offset, Math.round(center - f.center));
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, f.texture);
      gl.uniform1i(p.loc.u_frame, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers.quad);
      gl.enableVertexAttribArray(p.loc.a_quad);
      gl.vertexAttribPointer(p.loc.a_quad, 4, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.TRIANGLES, 0, f.vertices);
      gl.disableVertexAttribArray(p.loc.a_quad);
    }

    // One point set (tracks, ghosts, selected) at px device pixels, in every world of
    // offsets, or (wrap) in one draw, each symbol in the world copy nearest center.
    drawPoints(gl, matrix, name, px, offsets, wrap, center) {
      const set = this[name];
      if (set.used === 0) return;
      const p = this.pointProg;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.uniform1f(p.loc.u_cols, this.cols);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.atlas);
      gl.uniform1i(p.loc.u_atlas, 0);
      gl.uniform1f(p.loc.u_wrap, wrap ? 1 : 0);
      gl.uniform1f(p.loc.u_center, center);
      if (set.dirty) { this.upload(gl, name, set.data.subarray(0, set.used * FLOATS)); set.dirty = false; }
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
      gl.enableVertexAttribArray(p.loc.a_point);
      gl.vertexAttribPointer(p.loc.a_point, 3, gl.FLOAT, false, 0, 0);
      gl.uniform1f(p.loc.u_size, px);
      gl.uniform1f(p.loc.u_fill, px / this.cellPx);
      for (const k of wrap ? [0] : offsets) {
        gl.uniform1f(p.loc.u_offset, k);
        gl.drawArrays(gl.POINTS, 0, set.used);
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
    // how many are on the canvas); null before the first frame. Computed once per frame, into
    // the same arrays each time: read them at once, do not keep them.
    screen() {
      const m = this.matrix;
      if (!m) return null;
      if (this.cached && this.cached.frame === this.frames &&
          this.cached.version === this.tracks.version) return this.cached;
      const set = this.tracks, d = set.data, n = set.used;
      const canvas = this.map.getCanvas();
      const w = canvas.clientWidth, h = canvas.clientHeight;
      const cx = mercX(this.map.getCenter().lng);
      // the arrays are reused from frame to frame (a 10,000-track map asks every frame)
      if (!this.cached || this.cached.x.length < n) {
        this.cached = { x: new Float32Array(d.length / FLOATS), y: new Float32Array(d.length / FLOATS) };
      }
      const { x, y } = this.cached;
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
      Object.assign(this.cached, { keys: set.keys, w, h, visible, frame: this.frames,
        version: this.tracks.version });
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
