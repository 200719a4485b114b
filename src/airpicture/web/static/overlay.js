// airpicture COP page: what the track layer draws besides symbols (2-sigma ellipses,
// leaders, trails, as mercator line geometry) and the labels over the map. Shares the
// page's globals (cop.js: state, layer, map, $).
/* global Mercator, state, layer, map, $ */
"use strict";

// Labels are drawn for every track in view only while at most this many are in view (they
// stay readable and cost little per frame); above it, only the selected track's.
const LABEL_LIMIT = 250;
const METRES_PER_DEG = 111320;

function ellipseRing(t, steps = 32) {
  const [a, b, bearing] = t.ell || [0, 0, 0];
  const th = (bearing * Math.PI) / 180;
  const ue = Math.sin(th), un = Math.cos(th);     // major axis (east, north)
  const ve = Math.cos(th), vn = -Math.sin(th);    // minor axis
  const k = Math.max(Math.cos((t.lat * Math.PI) / 180), 0.01);
  const ring = [];
  for (let i = 0; i <= steps; i++) {
    const p = (2 * Math.PI * i) / steps;
    const e = a * Math.cos(p) * ue + b * Math.sin(p) * ve;
    const n = a * Math.cos(p) * un + b * Math.sin(p) * vn;
    ring.push([t.lon + e / (METRES_PER_DEG * k), t.lat + n / METRES_PER_DEG]);
  }
  return ring;
}

function leader(t, seconds = 120) {
  const d = (t.speed_kt * 1852 / 3600) * seconds;
  const c = (t.course_deg * Math.PI) / 180;
  const k = Math.max(Math.cos((t.lat * Math.PI) / 180), 0.01);
  return [[t.lon, t.lat],
    [t.lon + (d * Math.sin(c)) / (METRES_PER_DEG * k), t.lat + (d * Math.cos(c)) / METRES_PER_DEG]];
}

const RGBA = { trail: [159, 211, 255, 128], ellipseFill: [255, 255, 255, 20],
  ellipse: [255, 255, 255, 115], leader: [216, 226, 234, 178] };

// Line geometry of the detailed tracks into the layer, in mercator coordinates unwrapped
// about each track's own x (a trail or ellipse across the antimeridian stays in one piece).
function buildLines(detail) {
  const { fills, lines } = layer;
  const had = fills.n + lines.n;
  fills.reset(); lines.reset();
  const mx = Mercator.mercX, my = Mercator.mercY;
  const near = (x, ref) => x + Math.round(ref - x);
  const ellipses = $("ly-ellipses").checked, trails = $("ly-trails").checked;
  for (const t of detail) {
    const x0 = mx(t.lon), y0 = my(t.lat);
    if (ellipses) {
      const ring = ellipseRing(t);
      let px = near(mx(ring[0][0]), x0), py = my(ring[0][1]);
      for (let i = 1; i < ring.length; i++) {
        const x = near(mx(ring[i][0]), x0), y = my(ring[i][1]);
        fills.vertex(x0, y0, RGBA.ellipseFill); fills.vertex(px, py, RGBA.ellipseFill);
        fills.vertex(x, y, RGBA.ellipseFill);
        lines.vertex(px, py, RGBA.ellipse); lines.vertex(x, y, RGBA.ellipse);
        px = x; py = y;
      }
    }
    const [a, b] = leader(t);
    lines.vertex(near(mx(a[0]), x0), my(a[1]), RGBA.leader);
    lines.vertex(near(mx(b[0]), x0), my(b[1]), RGBA.leader);
    const pts = trails ? state.trails.get(t.key) : null;
    if (pts && pts.length > 1) {
      for (let i = 1; i < pts.length; i++) {
        lines.vertex(near(mx(pts[i - 1][0]), x0), my(pts[i - 1][1]), RGBA.trail);
        lines.vertex(near(mx(pts[i][0]), x0), my(pts[i][1]), RGBA.trail);
      }
    }
  }
  if (had || fills.n || lines.n) layer.linesDirty = true;  // none before and none now: no redraw
}

// Labels on a 2D canvas over the map, redrawn with each map frame: every track in view
// while at most LABEL_LIMIT are, else only the selected one (as tar1090 does); a label that
// would overlap one already drawn is left out.
let labelsBlank = false;
function drawLabels() {
  const canvas = $("labels");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) {
    canvas.width = w * dpr; canvas.height = h * dpr; labelsBlank = false;
  }
  const s = $("ly-labels").checked ? layer.screen() : null;
  let shown = [];  // slots to label
  if (s) {
    const sel = layer.tracks.index.get(state.selected);
    for (let i = 0; i < s.keys.length && shown.length <= LABEL_LIMIT; i++) {
      if (s.keys[i] !== undefined && i !== sel && s.x[i] > -50 && s.y[i] > -50 &&
          s.x[i] < w + 50 && s.y[i] < h + 50) shown.push(i);
    }
    if (shown.length > LABEL_LIMIT) shown = [];
    if (sel !== undefined) shown.unshift(sel);
  }
  if (!shown.length && labelsBlank) return;  // nothing drawn last time: nothing to clear
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  labelsBlank = !shown.length;
  // A blank canvas is hidden: the browser then composites one full-size layer less a frame.
  canvas.style.visibility = labelsBlank ? "hidden" : "";
  if (labelsBlank) return;
  ctx.font = "11px system-ui, 'DejaVu Sans', sans-serif";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(8,18,26,0.85)";
  const taken = [];
  const order = shown.map((i) => state.tracks.get(s.keys[i])).map((t, j) => [t, shown[j]])
    .filter(([t]) => t).sort(([a], [b]) =>
      (b.key === state.selected) - (a.key === state.selected) || (a.stn ?? 0) - (b.stn ?? 0));
  for (const [t, i] of order) {
    const x = s.x[i], y0 = s.y[i];
    const lines = [t.stn != null ? `${t.stn}${t.local_id != null ? " · " + t.key : ""}` : t.key,
      t.callsign || "", `FL${String(t.fl).padStart(3, "0")} ${Math.round(t.speed_kt)}kt`];
    const box = [x + 12, y0 - 23, x + 14 + Math.max(...lines.map((l) => ctx.measureText(l).width)), y0 + 14];
    if (taken.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
    taken.push(box);
    let y = y0 - 12;
    for (const [k, text] of lines.entries()) {
      if (!text) continue;
      ctx.fillStyle = k === 0 ? "#ffffff" : "#bcd3e4";
      ctx.strokeText(text, x + 14, y);
      ctx.fillText(text, x + 14, y);
      y += 12;
    }
  }
}
