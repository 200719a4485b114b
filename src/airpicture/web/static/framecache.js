// airpicture COP page: the track layer's frame cache (tracklayer.js).
//
// With software GL (SwiftShader) 10,000 point sprites cost most of a frame: about 2 million
// fragments of small primitives, and their cost is the rasterising (a flat colour costs as
// much as the atlas lookup; point sprites less than two triangles each). A moving map redraws
// every frame, so the layer draws its tracks and lines (in prerender, MapLibre's offscreen
// pass) into a texture a margin larger than the canvas, and each frame draws that texture
// over the map by the TILE squares it uses, placed by their mercator corners. With no pitch,
// a pan or zoom moves the whole screen by one scale and shift, so every symbol of a cached
// frame is at its true position; the cache is drawn afresh when symbols are added, removed or
// recoloured or one has moved MOVE_PX since, when the lines change, when the bearing or
// canvas size changes (a pitched map is drawn directly), when the view leaves the texture,
// when the symbols' size in the texture (scaled with the zoom) is off by more than SIZE_SLACK
// from what a fresh frame would draw (crowding), when the shapes the layer draws under the
// tracks change (the basemap's resolution, by zoom; coverage shown or hidden), and once the
// camera has rested SETTLE_MS or a frame repeats the last one's camera. Ghost rings and the
// selection ring are few and fixed in size: the layer draws them live every frame.
/* global Mercator, GLUtil, LayerData */
"use strict";

const FrameCache = (() => {
  // The texture's margin beyond the canvas on each side (a share of the longer side), the
  // largest error in symbol size a cached frame may show (a share of the fresh size, at least
  // 1 px), and how long the camera rests before an exact redraw.
  const MARGIN = 0.125;
  const SIZE_SLACK = 0.1;
  const SETTLE_MS = 300;
  const TILE = 32;           // texture px: the frame cache is drawn by the squares it uses
  const MOVE_PX = 0.5;       // a cached frame's symbols are at most this far from their place

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

  const { mercX, ndcToMerc, worldOffsets } = Mercator;
  const { compile, setFilter, sameMatrix, blendOver, VertexBuffer } = GLUtil;
  const { FLOATS, LINE_BYTES } = LayerData;

  // A frame for a w x h canvas: a texture MARGIN wider on each side (less where the GL's
  // largest texture is smaller) as a framebuffer's colour, with a stencil (the shapes'
  // fills); null if the GL has none.
  function makeFrame(gl, w, h) {
    const largest = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE),
      ...gl.getParameter(gl.MAX_VIEWPORT_DIMS));
    const m = Math.min(Math.round(MARGIN * Math.max(w, h)), Math.floor((largest - Math.max(w, h)) / 2));
    if (m < 0) return null;
    const f = { w, h, m, tw: w + 2 * m, th: h + 2 * m,
      texture: gl.createTexture(), fbo: gl.createFramebuffer(), stencil: gl.createRenderbuffer() };
    gl.bindTexture(gl.TEXTURE_2D, f.texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, f.tw, f.th, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    // nearest texel: exact at rest (texel for pixel), crisp in a pan (within half a pixel),
    // and a tenth of a frame cheaper than linear with software GL; a zoom shows at most
    // SIZE_SLACK of scaling before a fresh frame
    setFilter(gl, gl.NEAREST);
    gl.bindFramebuffer(gl.FRAMEBUFFER, f.fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, f.texture, 0);
    gl.bindRenderbuffer(gl.RENDERBUFFER, f.stencil);
    gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_STENCIL, f.tw, f.th);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_STENCIL_ATTACHMENT, gl.RENDERBUFFER,
      f.stencil);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) {
      deleteFrame(gl, f);
      return null;
    }
    return f;
  }

  function deleteFrame(gl, f) {
    gl.deleteFramebuffer(f.fbo);
    gl.deleteRenderbuffer(f.stencil);
    gl.deleteTexture(f.texture);
  }

  // The frame cache of one layer. tracks, lines, fills: the layer's symbols and geometry
  // (layerdata.js), read to tell whether a cached frame still shows them and where it
  // holds something.
  class Cache {
    constructor(tracks, lines, fills) {
      this.tracks = tracks;
      this.lines = lines;
      this.fills = fills;
      this.frame = null;          // {fbo, texture, w, h, ...}; null: none (drawn directly)
      this.exact = true;          // the last frame shows what a fresh frame would
      this.lastMatrix = null;
      this.stale = false;         // to be drawn afresh
      this.settleTimer = null;
      this.settleMs = SETTLE_MS;
    }

    onAdd(map, gl) {
      this.map = map;
      this.quadProg = compile(gl, QUAD_VS, QUAD_FS);
      this.quad = new VertexBuffer(gl);
    }

    onRemove(gl) {
      clearTimeout(this.settleTimer);
      this.quad.delete(gl);
      this.drop(gl);
      gl.deleteProgram(this.quadProg.prog);
    }

    drop(gl) {
      if (!this.frame) return;
      deleteFrame(gl, this.frame);
      this.frame = null;
    }

    // Takes this frame's camera matrix m: why the frame is to be drawn afresh (the symbols
    // at px device px), or null when the cache will do. direct: the layer draws straight
    // onto the map, without the cache (which it drops). changed: why the layer's geometry
    // differs from the cached frame's ("lines", "shapes"), or null.
    check(gl, m, px, direct, changed) {
      const still = this.lastMatrix !== null && sameMatrix(this.lastMatrix, m);
      this.lastMatrix = Float64Array.from(m);
      const why = direct ? "direct" : this.redrawReason(gl, m, px, still, changed);
      if (why === null) {
        this.exact = sameMatrix(this.frame.matrix, m);
        if (!this.exact) this.settleLater();
        return null;
      }
      this.exact = true;
      if (direct) this.drop(gl);
      return why;
    }

    // Why the frame cache will not do for this frame (see the top), or null when it will.
    redrawReason(gl, m, px, still, changed) {
      const f = this.frame;
      if (!f) return "first";
      if (f.w !== gl.drawingBufferWidth || f.h !== gl.drawingBufferHeight) return "resize";
      if (this.stale || (still && !this.exact)) return "settle";
      if (!this.unmoved(f, m)) return "tracks";
      if (changed) return changed;
      if (f.bearing !== this.map.getBearing()) return "bearing";
      if (!this.covers(f, m)) return "view";
      const shown = f.px * 2 ** (this.map.getZoom() - f.zoom);
      if (Math.abs(shown - px) > Math.max(1, SIZE_SLACK * px)) return "size";
      return null;
    }

    // Draws the frame afresh (the texture made or resized as needed), for the canvas plus a
    // margin: the camera matrix scaled so that the canvas's clip square maps onto the
    // texture's inner part. content(fm, offsets, wrap, center) draws the layer's tracks
    // (px device px), lines and shapes under matrix fm; boxes: where the shapes fill
    // (mercator x0, y0, x1, y1 each). False where the GL has no such texture.
    draw(gl, matrix, px, content, boxes) {
      const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
      let f = this.frame;
      if (!f || f.w !== w || f.h !== h) {
        this.drop(gl);
        f = makeFrame(gl, w, h);
        if (!f) return false;
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
      const offsets = worldOffsets(f.x0, f.x1);
      const wrap = offsets.length <= 2 && f.x1 - f.x0 < 1;
      gl.bindFramebuffer(gl.FRAMEBUFFER, f.fbo);
      gl.viewport(0, 0, f.tw, f.th);
      gl.disable(gl.SCISSOR_TEST);
      gl.colorMask(true, true, true, true);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      blendOver(gl);
      content(fm, offsets, wrap, f.center);
      this.buildQuads(gl, f, fm, offsets, wrap, px, boxes);
      f.version = this.tracks.version;
      f.layout = this.tracks.layout;
      f.positions = this.tracks.data.slice(0, this.tracks.used * FLOATS);
      this.stale = false;
      return true;
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
    // squares that a symbol (px wide), a line, a triangle or a shape's box touches, as rows
    // of runs, each a rectangle of two triangles with its mercator corners and texture
    // coordinates.
    buildQuads(gl, f, fm, offsets, wrap, px, boxes) {
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
      for (let i = 0; i < boxes.length; i += 4) {
        for (const k of offsets) {
          const xs = [tx(boxes[i] + k, boxes[i + 1]), tx(boxes[i + 2] + k, boxes[i + 3])];
          const ys = [ty(boxes[i] + k, boxes[i + 1]), ty(boxes[i + 2] + k, boxes[i + 3])];
          mark(Math.min(...xs) - 1, Math.min(...ys) - 1, Math.max(...xs) + 1, Math.max(...ys) + 1);
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
      if (f.vertices) this.quad.upload(gl, new Float32Array(out));
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

    // Draws the cached frame over the map (in render), moved by the whole worlds between
    // center (the view's, mercator x) and the centre it was drawn for.
    render(gl, matrix, center) {
      const f = this.frame, p = this.quadProg;
      if (!f || !f.vertices) return;
      gl.useProgram(p.prog);
      gl.uniformMatrix4fv(p.loc.u_matrix, false, matrix);
      gl.uniform1f(p.loc.u_offset, Math.round(center - f.center));
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, f.texture);
      gl.uniform1i(p.loc.u_frame, 0);
      this.quad.bind(gl);
      gl.enableVertexAttribArray(p.loc.a_quad);
      gl.vertexAttribPointer(p.loc.a_quad, 4, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.TRIANGLES, 0, f.vertices);
      gl.disableVertexAttribArray(p.loc.a_quad);
    }
  }

  return Cache;
})();
