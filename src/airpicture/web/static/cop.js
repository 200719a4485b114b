// airpicture COP page: MapLibre GL JS map, milsymbol symbols, live deltas over a WebSocket.
// Everything it loads comes from this server (the npm packages are served from node_modules).
// The page's scripts share one global scope, loaded in this order: atlas.js (symbol images),
// mercator.js, glutil.js, layerdata.js (the layer's coordinates, GL helpers, typed arrays),
// framecache.js (its frame cache), shapes.js and basemap.js (polygons and lines; land,
// coast, borders), tracklayer.js (the custom WebGL layer: basemap, coverage, symbols,
// ellipses, leaders, trails), overlay.js (their line geometry, labels), panels.js (side
// panels), feed.js (data flow: WebSocket, replay, views), this file (state, map, start).
// The map has no GeoJSON sources: basemap, coverage and tracks are the custom layer's own
// geometry; a delta updates the layer's typed arrays in place and asks for one repaint.
/* global maplibregl, TrackLayer, Shapes, atlasCells, drawLabels, buildLines, loadStatus,
   loadDetail, scheduleTable, wireControls, setView, connect, loadTrails, subscribe */
"use strict";

const IDENTITIES = ["pending", "unknown", "assumed_friend", "friend", "neutral", "suspect",
  "hostile"];
// MIL-STD-2525C standard identity letters (position 2 of the SIDC)
const AFFILIATION = { pending: "P", unknown: "U", assumed_friend: "A", friend: "F",
  neutral: "N", suspect: "S", hostile: "H" };
const NATION_COLOURS = { JPN: "#ff6b6b", AUS: "#f7b731", USA: "#4b9bec", PHL: "#20bf6b" };
const PICTURE = "picture";
const TRAIL_POINTS = 40;
// Above this many tracks in view, ellipses, leaders and trails are left out (the selected
// track keeps its own): at a whole-region zoom they are sub-pixel clutter, and building and
// drawing them for 10,000 tracks costs most of a frame with software GL. Zoom in to see them.
const DETAIL_LIMIT = 1500;
// Picking: a click within this many CSS px of a symbol's centre selects it.
const PICK_PX = 14;

const state = {
  view: PICTURE,
  tracks: new Map(),       // key -> track view (the current view, live or replayed)
  trails: new Map(),       // key -> [[lon, lat], ...]
  ghosts: [],              // shared-picture tracks the chosen nation does not hold
  selected: null,          // key
  live: true,
  history: [],
  sort: { col: "stn", dir: 1 },
  filter: "",
  status: null,
  head: null,
  detailed: 0,             // tracks drawn with ellipse, leader and trail (DETAIL_LIMIT)
  slots: [],               // slot -> track (the compact deltas' moves name tracks by slot)
};

// The symbols, ellipses, leaders and trails: one custom WebGL layer (tracklayer.js).
const layer = new TrackLayer.Layer("tracks", atlasCells(IDENTITIES, AFFILIATION));

// Test and debugging hooks.
const cop = (window.cop = {
  ready: false,
  applied: 0,
  panelsLoaded: 0,  // side panels (status, alerts, detail) re-rendered after updates
  errors: [],
  state,
  layer,
  get map() { return map; },
  // The layer's symbols (its typed arrays, as drawn) whose centre is on the map's canvas.
  visibleKeys() { return layer.visibleKeys(); },
  visibleCount() { return cop.visibleKeys().length; },
  // [lon, lat] of a symbol, read back from the layer's mercator arrays.
  renderedPosition(key) { return layer.tracks.lonLat(key); },
  screenPosition(key) {
    const s = layer.screen();
    const i = layer.tracks.index.get(key);
    if (!s || i === undefined) return null;
    const r = document.getElementById("map").getBoundingClientRect();
    return { x: s.x[i] + r.left, y: s.y[i] + r.top };
  },
  idle() {
    return new Promise((resolve) => {
      if (map.loaded() && !map.isMoving()) map.once("idle", () => resolve(true));
      else map.once("idle", () => resolve(true));
      map.triggerRepaint();
    });
  },
  select: (key) => select(key),
  setView: (name) => setView(name),
});
window.addEventListener("error", (e) => cop.errors.push(String(e.message)));

let map = null;
let detailTimer = null;

// ---------------------------------------------------------------- helpers

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;",
  ">": "&gt;", '"': "&quot;" }[c]));
const fmtTime = (t) => (t == null ? "–" : new Date(t * 1000).toISOString().slice(11, 19) + "Z");
const nationColour = (n) => NATION_COLOURS[n] || "#c0c0c0";

// An element's HTML, set only when it differs from what was set last: the panels are
// re-rendered after every update (1 Hz), and unchanged HTML then costs no style, layout or
// paint. True when it was set.
const shownHTML = new WeakMap();
function setHTML(el, html) {
  if (shownHTML.get(el) === html) return false;
  el.innerHTML = html;
  shownHTML.set(el, html);
  return true;
}

async function getJSON(url, options) {
  const r = await fetch(url, options);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function nearLon(lon) {
  const c = map ? map.getCenter().lng : 0;
  return lon + 360 * Math.round((c - lon) / 360);
}

// ---------------------------------------------------------------- map

function addLayers() {
  map.addLayer(layer);
  map.on("click", (e) => {
    const key = layer.pick(e.point.x, e.point.y, PICK_PX);
    if (key !== null) select(key);
  });
  map.on("mousemove", (e) => {
    map.getCanvas().style.cursor = layer.pick(e.point.x, e.point.y, PICK_PX) !== null ? "pointer" : "";
  });
  map.on("render", drawLabels);
  map.on("moveend", () => {
    if ($("ly-area").checked) subscribe();
    if (state.tracks.size > DETAIL_LIMIT) {  // the tracks in view changed: redo the detail
      clearTimeout(detailTimer);
      detailTimer = setTimeout(refreshMap, 250);
    }
  });
}

function inView(tracks) {
  const b = map.getBounds();
  const w = b.getWest(), e = b.getEast(), s = b.getSouth(), n = b.getNorth();
  if (e - w >= 360) return tracks;
  const c = map.getCenter().lng;
  return tracks.filter((t) => {
    const x = t.lon + 360 * Math.round((c - t.lon) / 360);
    return t.lat >= s && t.lat <= n && x >= w && x <= e;
  });
}

function detailTracks(tracks) {
  if (tracks.length <= DETAIL_LIMIT) return tracks;
  const shown = inView(tracks);
  if (shown.length <= DETAIL_LIMIT) return shown;
  const sel = state.tracks.get(state.selected);
  return sel ? [sel] : [];
}

const KIND = { tentative: "tentative", coasting: "coasting" };
function cellOf(t) {
  const cell = layer.cell[`${t.identity}/${KIND[t.status] || "present"}`];
  return cell === undefined ? layer.cell["unknown/present"] : cell;
}

function pointsReset() {
  layer.tracks.clear();
  for (const t of state.tracks.values()) layer.tracks.put(t.key, t.lon, t.lat, cellOf(t));
}

function refreshMap() {
  const detail = detailTracks([...state.tracks.values()]);
  state.detailed = detail.length;
  buildLines(detail);
  const ghosts = state.view !== PICTURE && $("ly-ghosts").checked ? state.ghosts : [];
  layer.ghosts.clear();
  for (const t of ghosts) layer.ghosts.put(t.key, t.lon, t.lat, layer.cell.ghost);
  layer.selected.clear();
  const sel = state.tracks.get(state.selected);
  if (sel) layer.selected.put(sel.key, sel.lon, sel.lat, layer.cell.selected);
  map.triggerRepaint();
  scheduleTable();
  cop.applied += 1;
}

// ---------------------------------------------------------------- selection

function select(key, fly) {
  state.selected = key;
  const t = state.tracks.get(key);
  if (t && fly) map.flyTo({ center: [nearLon(t.lon), t.lat], zoom: Math.max(map.getZoom(), 6) });
  refreshMap();
  loadDetail();
}

// ---------------------------------------------------------------- start

// The sensors' coverage as the layer's shapes: each area (5 % of its nation's colour; areas
// of sensors may overlap: a group each) and its edge (55 %).
async function loadCoverage() {
  const doc = await getJSON("/api/coverage");
  const shapes = new Shapes();
  for (const { properties, geometry } of doc.features) {
    const rgb = [1, 3, 5].map((i) => parseInt(nationColour(properties.nation).slice(i, i + 2), 16));
    if (properties.part === "area") shapes.group();
    for (const part of geometry.coordinates) {
      if (properties.part === "area") shapes.polygon(part, [...rgb, 13]);
      else shapes.line(part, [...rgb, 140]);
    }
  }
  layer.setCoverage(shapes, $("ly-coverage").checked);
  $("legend").innerHTML = [...new Set(doc.features.map((f) => f.properties.nation))].map((n) =>
    `<span><i style="display:inline-block;width:10px;height:10px;background:${nationColour(n)}"></i>${esc(n)}</span>`).join("");
}

// MapLibre 4 draws its sky, a quad over the whole canvas, first thing every frame (with
// software GL about 18 ms of CPU a frame, more than everything else on an empty map), though
// its shader colours only what lies above the horizon, and the horizon stays above the
// canvas's top edge unless the map is pitched past about 69 degrees (MapLibre puts it
// 0.85 * tan(90 - pitch) * 1.5 canvas heights above the centre). So while the map cannot
// pitch past 60 (maxPitch) its painter renders a style without the sky; a MapLibre without
// such a painter is left as it is.
function skipHiddenSky(m) {
  const painter = m.painter;
  if (!painter || typeof painter.render !== "function" || m.getMaxPitch() > 60) return;
  const render = painter.render;
  painter.render = function (style, options) {
    const sky = style.sky;
    style.sky = null;
    try { return render.call(this, style, options); } finally { style.sky = sky; }
  };
}

function start() {
  map = new maplibregl.Map({
    container: "map",
    // the sea is #map's background (cop.css), the land the track layer's (basemap.js)
    style: { version: 8, sources: {}, layers: [] },
    center: [150, 10], zoom: 2.3, attributionControl: false, fadeDuration: 0,
    renderWorldCopies: true, maxPitch: 60,
  });
  skipHiddenSky(map);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-right");
  wireControls();
  map.on("load", async () => {
    addLayers();
    await Promise.all([loadStatus(), loadCoverage(), loadTrails(), layer.basemap.load(getJSON)]);
    map.triggerRepaint();  // the basemap is in
    connect();
  });
}

start();
