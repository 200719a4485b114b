// airpicture COP page: filled polygons and lines in mercator coordinates that the track
// layer draws under its tracks, into its frame cache (tracklayer.js, framecache.js): the
// basemap's land, coast and borders (basemap.js) and the sensors' coverage (cop.js).
// Polygons are filled without triangulating them: every ring as a fan of triangles from the
// mean of its vertices, counted into the stencil's lowest bit (a point inside is covered an
// odd number of times, holes and overlaps of the fan an even number), then the same
// triangles paint where that bit is set and clear it. From the mean the fans cover about
// twice a polygon's area (Natural Earth land: 1:110M 1.9, 1:50M 2.4 times; from a ring's
// first vertex 2.8 and 3.9): the fill costs the frame cache's fresh frames, never a panned
// one. Polygons of one group are filled together (they must not overlap: an overlap would
// count twice and stay empty); groups are filled one after another. Lines are 1-px GL lines.
/* global Mercator, LayerData, GLUtil */
"use strict";

const Shapes = (() => {
  const { mercX, mercY } = Mercator;
  const { Lines, LINE_BYTES } = LayerData;
  const { VertexBuffer } = GLUtil;

  class Shapes {
    constructor() {
      this.fills = new Lines();   // fan triangles
      this.lines = new Lines();   // segments (pairs)
      this.groups = [];           // [first, count] fill vertices of each group
      this.boxes = [];            // each ring's mercator x0, y0, x1, y1: where fills are
      this.buffers = null;        // {fills, lines} on the GL once drawn
    }

    // Starts a group of polygons filled together.
    group() { this.groups.push([this.fills.n, 0]); }

    // A polygon (rings of [lon, lat] degrees, each closed: the last point is the first) in
    // the current group, colour rgba (0..255; alpha for blending).
    polygon(rings, rgba) {
      if (!this.groups.length) this.group();
      for (const ring of rings) this.fan(ring.map(([lon, lat]) => [mercX(lon), mercY(lat)]), rgba);
      const last = this.groups[this.groups.length - 1];
      last[1] = this.fills.n - last[0];
    }

    // A ring (mercator points, closed) as triangles from the mean of its points, one per
    // edge; its box into boxes.
    fan(ring, rgba) {
      let ax = Infinity, ay = Infinity, bx = -Infinity, by = -Infinity, cx = 0, cy = 0;
      for (const [x, y] of ring) {
        ax = Math.min(ax, x); bx = Math.max(bx, x); ay = Math.min(ay, y); by = Math.max(by, y);
        cx += x / ring.length; cy += y / ring.length;
      }
      for (let i = 0; i + 1 < ring.length; i++) {
        this.fills.vertex(cx, cy, rgba);
        this.fills.vertex(ring[i][0], ring[i][1], rgba);
        this.fills.vertex(ring[i + 1][0], ring[i + 1][1], rgba);
      }
      this.boxes.push(ax, ay, bx, by);
    }

    // A line through [lon, lat] degrees points, colour rgba.
    line(points, rgba) {
      for (let i = 1; i < points.length; i++) {
        this.lines.vertex(mercX(points[i - 1][0]), mercY(points[i - 1][1]), rgba);
        this.lines.vertex(mercX(points[i][0]), mercY(points[i][1]), rgba);
      }
    }

    // Draws the shapes into the bound framebuffer (it needs a stencil buffer), blending as
    // set: geometry(buffer, mode, first, n) draws vertices of a buffer with the layer's line
    // program in every world copy in view. Leaves the stencil test off.
    draw(gl, geometry) {
      if (!this.buffers) {
        this.buffers = { fills: new VertexBuffer(gl), lines: new VertexBuffer(gl) };
        for (const name of ["fills", "lines"]) {
          const g = this[name];
          if (g.n) this.buffers[name].upload(gl, new Uint8Array(g.buf, 0, g.n * LINE_BYTES));
        }
      }
      gl.enable(gl.STENCIL_TEST);
      gl.stencilMask(1);
      gl.clearStencil(0);
      gl.clear(gl.STENCIL_BUFFER_BIT);
      for (const [first, n] of this.groups) {
        gl.colorMask(false, false, false, false);
        gl.stencilFunc(gl.ALWAYS, 0, 1);
        gl.stencilOp(gl.KEEP, gl.KEEP, gl.INVERT);
        geometry(this.buffers.fills, gl.TRIANGLES, first, n);
        gl.colorMask(true, true, true, true);
        gl.stencilFunc(gl.NOTEQUAL, 0, 1);
        gl.stencilOp(gl.ZERO, gl.ZERO, gl.ZERO);
        geometry(this.buffers.fills, gl.TRIANGLES, first, n);
      }
      gl.disable(gl.STENCIL_TEST);
      geometry(this.buffers.lines, gl.LINES, 0, this.lines.n);
    }

    // Frees the GL buffers (a later draw makes them again).
    release(gl) {
      if (!this.buffers) return;
      for (const b of Object.values(this.buffers)) b.delete(gl);
      this.buffers = null;
    }
  }

  return Shapes;
})();
