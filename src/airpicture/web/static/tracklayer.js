// airpicture COP: the tracks as one MapLibre custom WebGL layer (CustomLayerInterface).
//
// Symbols are point sprites cut from a texture atlas of milsymbol icons (one cell per
// standard identity and track status), placed by their Web-Mercator coordinates (x east,
// y south, both 0..1 over the world) held in typed arrays (layerdata.js) that the page's
// deltas update in place: a 1 Hz update of 10,000 tracks is one bufferSubData, not a
// re-tiled GeoJSON source.
// Ellipses, leaders and trails are line (and triangle) geometry built by the page for the
// tracks it details, drawn by the same layer. The layer is drawn once per visible world copy
// (offset by whole worlds), so tracks on both sides of the antimeridian sit where they are;
// symbols, while the view is narrower than a world, in one draw: each in the world copy
// nearest the view's centre (with software GL, a clipped point still costs its setup).
// Screen positions for picking and labels are computed on the CPU from the last camera
// matrix, only when asked (a click, a label pass).
//
// Under the tracks it draws the basemap (land, coast, borders: basemap.js) and, while shown,
// the sensors' coverage (shapes.js).
//
// The shapes, tracks and lines are drawn through a frame cache (framecache.js) while the map
// has no pitch; ghost rings and the selection ring, few and fixed in size, live every frame,
// over them (the cached frame holds the opaque land).
/* global Mercator, GLUtil, LayerData, FrameCache, Basemap, Shapes */
"use strict";

const TrackLayer = (() => {
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

  const { mercX, worldOffsets } = Mercator;
  const { compile, setFilter, blendOver, VertexBuffer } = GLUtil;
  const { FLOATS, LINE_BYTES, Points, Lines } = LayerData;
  const BUFFERS = ["tracks", "ghosts", "selected", "fills", "lines"];

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
      this.basemap = new Basemap();
      this.coverage = new Shapes();
      this.coverageShown = false;
      this.coverageVersion = 0;   // counts setCoverage calls
      this.retired = [];          // shapes replaced, their GL buffers to free
      this.drawnShapes = null;    // shapesKey() of the last fresh frame
      this.matrix = null;
      this.frames = 0;            // frames drawn
      this.fresh = 0;             // of them, drawn afresh (not from the frame cache)
      this.redraws = {};          // fresh frames by reason (framecache.js; "direct": no cache)
      this.scale = 1;             // symbol scale of the last frame (crowding)
      this.minScale = MIN_SCALE;
      this.cached = null;         // screen(), for the frame it was computed in
      this.useCache = true;       // false: draw every frame afresh (for comparison)
      this.frameCache = new FrameCache(this.tracks, this.lines, this.fills);
    }

    // The frame cache's texture record (null: none), whether the last frame shows what a
    // fresh frame would, and how long the camera rests before an exact redraw.
    get frame() { return this.frameCache.frame; }
    get exact() { return this.frameCache.exact; }
    get settleMs() { return this.frameCache.settleMs; }
    set settleMs(ms) { this.frameCache.settleMs = ms; }

    onAdd(map, gl) {
      this.map = map;
      this.pointProg = compile(gl, POINT_VS, POINT_FS);
      this.lineProg = compile(gl, LINE_VS, LINE_FS);
      this.buffers = Object.fromEntries(BUFFERS.map((name) => [name, new VertexBuffer(gl)]));
      this.frameCache.onAdd(map, gl);
      this.buildAtlas(gl);
    }

    onRemove(map, gl) {
      for (const b of Object.values(this.buffers)) b.delete(gl);
      gl.deleteTexture(this.atlas);
      this.frameCache.onRemove(gl);
      for (const shapes of [this.basemap, this.coverage, ...this.retired]) shapes.release(gl);
      for (const p of [this.pointProg, this.lineProg]) gl.deleteProgram(p.prog);
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

    // The sensors' coverage (Shapes) and whether it is shown.
    setCoverage(shapes, shown) {
      if (shapes !== this.coverage) this.retired.push(this.coverage);
      this.coverage = shapes;
      this.coverageShown = shown;
      this.coverageVersion += 1;
      if (this.map) this.map.triggerRepaint();
    }

    // What shapes a frame at zoom draws (basemap resolution, coverage), to tell when the
    // frame cache holds others.
    shapesKey(zoom) {
      return `${this.basemap.key(zoom)} ${this.coverageShown ? this.coverageVersion : "-"}`;
    }

    // The shapes drawn under the tracks at zoom, bottom first.
    shapes(zoom) {
      const base = this.basemap.at(zoom);
      return [...(base ? [base] : []), ...(this.coverageShown ? [this.coverage] : [])];
    }

    // The symbol size (device px) a fresh frame draws now: crowding (see the top).
    freshSymbolPx() {
      const s = this.screen();
      const spacing = Math.sqrt((s.w * s.h) / Math.max(s.visible, 1)) * this.ratio;
      this.scale = Math.max(this.minScale, Math.min(1, (CROWD * spacing) / this.symbolPx));
      return Math.round(this.symbolPx * this.scale);
    }

    // MapLibre's offscreen pass, before the map's own layers: draw the shapes, tracks and
    // lines into the frame cache when it will not do (or straight onto the map in render,
    // without one).
    prerender(gl, matrix) {
      this.matrix = matrix;
      this.frames += 1;
      const px = this.freshSymbolPx();
      const zoom = this.map.getZoom();
      const direct = !this.useCache || this.map.getPitch() !== 0;
      for (const shapes of this.retired.splice(0)) shapes.release(gl);
      const changed = this.linesDirty ? "lines"
        : this.shapesKey(zoom) !== this.drawnShapes ? "shapes" : null;
      const why = this.frameCache.check(gl, matrix, px, direct, changed);
      if (why !== null) {
        this.fresh += 1;
        this.redraws[why] = (this.redraws[why] || 0) + 1;
        this.drawnShapes = this.shapesKey(zoom);
        const boxes = this.shapes(zoom).flatMap((shapes) => shapes.boxes);
        const content = (fm, offsets, wrap, center) =>
          this.drawContent(gl, fm, px, offsets, wrap, center);
        // no such texture here: draw directly
        if (!direct && !this.frameCache.draw(gl, matrix, px, content, boxes)) {
          this.useCache = false;
        }
      }
      this.direct = !this.frameCache.frame;  // none: drawn in render, straight onto the map
    }

    render(gl, matrix) {
      this.matrix = matrix;
      blendOver(gl);
      const b = this.map.getBounds();
      const x0 = mercX(b.getWest()), x1 = mercX(b.getEast());
      const offsets = worldOffsets(x0 - 0.05, x1 + 0.05);
      const center = mercX(this.map.getCenter().lng);
      // one draw, each symbol wrapped to the centre's copy, unless the view is over a world wide
      const wrap = offsets.length <= 2 && x1 - x0 < 1;
      if (this.direct) {
        this.drawContent(gl, matrix, Math.round(this.symbolPx * this.scale), offsets, wrap, center);
      } else {
        this.frameCache.render(gl, matrix, center);
      }
      this.drawPoints(gl, matrix, "ghosts", this.ghostPx, offsets, wrap, center);
      this.drawPoints(gl, matrix, "selected", this.cellPx, offsets, wrap, center);
    }

    // What the frame cache holds: the shapes, lines and tracks (symbols px device px).
    drawContent(gl, matrix, px, offsets, wrap, center) {
      const geometry = (buffer, mode, first, n) =>
        this.drawGeometry(gl, matrix, offsets, buffer, mode, first, n);
      for (const shapes of this.shapes(this.map.getZoom())) shapes.draw(gl, geometry);
      this.drawLines(gl, matrix, offsets);
      this.drawPoints(gl, matrix, "tracks", px, offsets, wrap, center);
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
      if (set.dirty) {
        this.buffers[name].upload(gl, set.data.subarray(0, set.used * FLOATS));
        set.dirty = false;
      }
      this.buffers[name].bind(gl);
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
          if (g.n) this.buffers[name].upload(gl, new Uint8Array(g.buf, 0, g.n * LINE_BYTES));
        }
        this.linesDirty = false;
      }
      this.drawGeometry(gl, matrix, offsets, this.buffers.fills, gl.TRIANGLES, 0, this.fills.n);
      this.drawGeometry(gl, matrix, offsets, this.buffers.lines, gl.LINES, 0, this.lines.n);
    }

    // n vertices from first (LINE_BYTES each: mercator x, y, colour) of buffer as mode, with
    // the line program, in every world of offsets.
    drawGeometry(gl, matrix, offsets, buffer, mode, first, n) {
      if (!n) return;
      const p = this.lineProg;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.enableVertexAttribArray(p.loc.a_pos);
      gl.enableVertexAttribArray(p.loc.a_colour);
      buffer.bind(gl);
      gl.vertexAttribPointer(p.loc.a_pos, 2, gl.FLOAT, false, LINE_BYTES, 0);
      gl.vertexAttribPointer(p.loc.a_colour, 4, gl.UNSIGNED_BYTE, true, LINE_BYTES, 8);
      for (const k of offsets) {
        gl.uniform1f(p.loc.u_offset, k);
        gl.drawArrays(mode, first, n);
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

  return { Layer };
})();
