// airpicture COP page: MapLibre GL JS map, milsymbol symbols, live deltas over a WebSocket.
// Everything it loads comes from this server (the npm packages are served from node_modules).
// The page's scripts share one global scope, loaded in this order: atlas.js (symbol images),
// mercator.js, glutil.js, layerdata.js (the layer's coordinates, GL helpers, typed arrays),
// framecache.js (its frame cache), tracklayer.js (the custom WebGL layer: symbols, ellipses,
// leaders, trails), overlay.js (their line geometry, labels), panels.js (side panels), this
// file (map, data flow, start).
// Basemap and coverage are GeoJSON sources (static); the tracks never are: a delta updates
// the layer's typed arrays in place and asks for one repaint.
/* global maplibregl, TrackLayer, atlasCells, drawLabels, buildLines, loadStatus, loadAlerts,
   loadDetail, showHead, loadHistory, scheduleTable, wireControls */
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
let socket = null;
let detailTimer = null;

// ---------------------------------------------------------------- helpers

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;",
  ">": "&gt;", '"': "&quot;" }[c]));
const fmtTime = (t) => (t == null ? "–" : new Date(t * 1000).toISOString().slice(11, 19) + "Z");
const nationColour = (n) => NATION_COLOURS[n] || "#c0c0c0";

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

function emptyFC() { return { type: "FeatureCollection", features: [] }; }

// The basemap: land, coast and borders from one source (one set of tile clipping masks a
// frame; MapLibre draws a source's masks again for every layer whose source differs from the
// last one's), Natural Earth 1:110M below BASEMAP_50M_ZOOM and 1:50M from there: at a
// whole-region zoom the 1:50M coast is a dozen times the vertices for no visible detail.
const BASEMAP_50M_ZOOM = 3;

function addBasemap() {
  const ranges = { "110m": { maxzoom: BASEMAP_50M_ZOOM }, "50m": { minzoom: BASEMAP_50M_ZOOM } };
  const kind = (name) => ["==", ["get", "layer"], name];
  for (const [res, zooms] of Object.entries(ranges)) {
    const source = `basemap-${res}`;
    map.addSource(source, { type: "geojson", data: `/api/basemap/all?resolution=${res}` });
    // fill-antialias off: the coast line draws the land's outline anyway
    map.addLayer({ id: `land-${res}`, type: "fill", source, ...zooms, filter: kind("land"),
      paint: { "fill-color": "#223240", "fill-antialias": false } });
    map.addLayer({ id: `coast-${res}`, type: "line", source, ...zooms, filter: kind("coast"),
      paint: { "line-color": "#4f6b80", "line-width": 0.8 } });
    // Solid, not dashed: a dashed line costs a pattern lookup per pixel, and with software GL
    // the borders alone took a good part of a frame.
    map.addLayer({ id: `borders-${res}`, type: "line", source, ...zooms, filter: kind("borders"),
      paint: { "line-color": "#5b7385", "line-width": 0.6, "line-opacity": 0.8 } });
  }
}

function addLayers() {
  addBasemap();
  map.addSource("coverage", { type: "geojson", data: emptyFC() });
  map.addLayer({ id: "coverage-fill", type: "fill", source: "coverage",
    layout: { visibility: "none" }, filter: ["==", ["get", "part"], "area"],
    paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.05 } });
  map.addLayer({ id: "coverage-line", type: "line", source: "coverage",
    layout: { visibility: "none" }, filter: ["==", ["get", "part"], "edge"],
    paint: { "line-color": ["get", "colour"], "line-opacity": 0.55, "line-width": 1 } });
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

// ---------------------------------------------------------------- data flow

function noteTrail(t) {
  if (!state.live) return;
  let trail = state.trails.get(t.key);
  if (!trail) { trail = []; state.trails.set(t.key, trail); }
  const last = trail[trail.length - 1];
  if (!last || last[0] !== t.lon || last[1] !== t.lat) trail.push([t.lon, t.lat]);
  if (trail.length > TRAIL_POINTS) trail.splice(0, trail.length - TRAIL_POINTS);
}

// A snapshot (replace) or JSON upserts; a snapshot's tracks take the slots 0..n-1.
function applyTracks(list, replace, slots) {
  if (replace) { state.tracks.clear(); state.slots = list.slice(); }
  for (const [i, t] of list.entries()) {
    state.tracks.set(t.key, t);
    if (slots) state.slots[slots[i]] = t;
    noteTrail(t);
  }
  if (replace) pointsReset(); else for (const t of list) layer.tracks.put(t.key, t.lon, t.lat, cellOf(t));
}

function removeTracks(keys) {
  for (const k of keys) {
    state.tracks.delete(k); state.trails.delete(k); layer.tracks.remove(k);
  }
}

// A compact delta (binary frame, see airpicture/web/compact.py): remove, upsert, then the
// moves, applied to the tracks and their features in place. Returns the header.
function applyCompact(buf) {
  const size = new DataView(buf).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, size)));
  if (head.view !== state.view || !state.live) return head;
  const n = head.n;
  let at = 4 + size + ((8 - ((4 + size) % 8)) % 8);
  const time = new Float64Array(buf, at, n); at += 8 * n;
  const slot = new Uint32Array(buf, at, n); at += 4 * n;
  const col = {};
  for (const [name] of head.columns) { col[name] = new Int32Array(buf, at, n); at += 4 * n; }
  const scale = Object.fromEntries(head.columns);
  removeTracks(head.remove);  // their slots are named by no move, until an upsert takes them
  applyTracks(head.upsert, false, head.slots);
  const { lat, lon, alt_m, fl, speed_kt, course_deg, vrate_ms, ell0, ell1, ell2, quality } = col;
  for (let j = 0; j < n; j++) {
    const t = state.slots[slot[j]];
    if (!t) continue;
    t.time = time[j];
    t.lat = lat[j] / scale.lat; t.lon = lon[j] / scale.lon;
    t.alt_m = alt_m[j] / scale.alt_m; t.fl = fl[j] / scale.fl;
    t.speed_kt = speed_kt[j] / scale.speed_kt; t.course_deg = course_deg[j] / scale.course_deg;
    t.vrate_ms = vrate_ms[j] / scale.vrate_ms;
    t.ell = [ell0[j] / scale.ell0, ell1[j] / scale.ell1, ell2[j] / scale.ell2];
    t.quality = quality[j] / scale.quality;
    noteTrail(t);
    layer.tracks.move(t.key, t.lon, t.lat);
  }
  return head;
}

function subscription() {
  const msg = { type: "subscribe", view: state.view, bbox: null, alt_m: null, format: "compact" };
  const lo = parseFloat($("fl-lo").value), hi = parseFloat($("fl-hi").value);
  if (Number.isFinite(lo) || Number.isFinite(hi)) {
    msg.alt_m = [Number.isFinite(lo) ? lo * 30.48 : -1000, Number.isFinite(hi) ? hi * 30.48 : 1e5];
  }
  if ($("ly-area").checked) {
    const b = map.getBounds();
    const wrap = (x) => ((((x + 180) % 360) + 360) % 360) - 180;
    const span = b.getEast() - b.getWest();
    if (span < 360) {
      msg.bbox = [wrap(b.getWest()), Math.max(b.getSouth(), -90), wrap(b.getEast()),
        Math.min(b.getNorth(), 90)];
    }
  }
  return msg;
}

function subscribe() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(subscription()));
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = subscribe;
  socket.onmessage = (ev) => {
    let msg;
    if (ev.data instanceof ArrayBuffer) {
      msg = applyCompact(ev.data);
      if (msg.view !== state.view || !state.live) return;
      msg = { type: msg.type, format: msg.format, epoch: msg.epoch, time: msg.time,
        hash: msg.hash, view: msg.view, count: msg.count };
    } else {
      msg = JSON.parse(ev.data);
      if (msg.type === "error") { console.warn("server:", msg.error); return; }
      if (msg.view !== state.view || !state.live) return;
      if (msg.type === "snapshot") {
        applyTracks(msg.tracks, true);
        delete msg.tracks;
      } else if (msg.type === "delta") {
        removeTracks(msg.remove);
        applyTracks(msg.upsert, false);
      }
    }
    state.head = msg;
    showHead(msg);
    noteLiveTime(msg.time);
    refreshMap();
    afterUpdate();
    if (!cop.ready) firstFit();
  };
  socket.onclose = () => { setTimeout(connect, 2000); };
}

let sideTimer = null;
function afterUpdate() {
  if (sideTimer) return;
  sideTimer = setTimeout(async () => {
    sideTimer = null;
    await Promise.all([loadStatus(), loadAlerts(), loadGhosts(), loadDetail()]);
    cop.panelsLoaded += 1;
  }, 300);
}

function firstFit() {
  const tracks = [...state.tracks.values()];
  if (tracks.length) {
    let w = Infinity, e = -Infinity, s = Infinity, n = -Infinity;
    const c = tracks.reduce((acc, t) => acc + t.lon, 0) / tracks.length;
    for (const t of tracks) {
      const x = t.lon + 360 * Math.round((c - t.lon) / 360);
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, t.lat); n = Math.max(n, t.lat);
    }
    map.fitBounds([[w, s], [e, n]], { padding: 70, animate: false, maxZoom: 7 });
  }
  map.once("idle", () => { cop.ready = true; });
}

function noteLiveTime(t) {
  if (state.live) $("slider-time").textContent = fmtTime(t);
}

async function loadGhosts() {
  if (state.view === PICTURE) { state.ghosts = []; return; }
  const url = state.live ? "/api/tracks?view=picture"
    : `/api/replay?view=picture&time=${state.history[$("slider").value]}`;
  const all = (await getJSON(url)).tracks;
  const mine = new Set([...state.tracks.values()].map((t) => t.stn).filter((s) => s != null));
  state.ghosts = all.filter((t) => !mine.has(t.stn));
  refreshMap();
}

async function loadTrails() {
  const trails = await getJSON(`/api/trails?view=${encodeURIComponent(state.view)}&seconds=180`);
  state.trails = new Map(Object.entries(trails));
}

async function setView(name) {
  if (name === state.view) return;
  state.view = name;
  state.tracks.clear();
  state.slots = [];
  pointsReset();
  state.selected = null;
  $("detail").classList.add("hidden");
  $("view-hint").textContent = name === PICTURE
    ? "The shared picture: every partner's releases, fused."
    : `What ${name} alone would see; grey rings: tracks only the shared picture holds.`;
  await loadTrails();
  if (state.live) subscribe(); else await replayAt(Number($("slider").value));
  await loadStatus();
}

// ---------------------------------------------------------------- replay

async function replayAt(index) {
  const t = state.history[index];
  if (t == null) return;
  const r = await getJSON(`/api/replay?view=${encodeURIComponent(state.view)}&time=${t}`);
  applyTracks(r.tracks, true);
  $("slider-time").textContent = fmtTime(r.time);
  state.head = { ...r, type: "replay", count: r.tracks.length };
  showHead(state.head);
  refreshMap();
  await loadGhosts();
}

function setLive(on) {
  state.live = on;
  $("live").classList.toggle("on", on);
  $("mode").textContent = on ? "LIVE" : "REPLAY";
  $("mode").className = `mode ${on ? "live" : "replay"}`;
  if (on) { loadTrails().then(subscribe); }
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

async function loadCoverage() {
  const doc = await getJSON("/api/coverage");
  for (const f of doc.features) f.properties.colour = nationColour(f.properties.nation);
  map.getSource("coverage").setData(doc);
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
    style: { version: 8, sources: {}, layers: [] },  // the sea is #map's background (cop.css)
    center: [150, 10], zoom: 2.3, attributionControl: false, fadeDuration: 0,
    renderWorldCopies: true, maxPitch: 60,
  });
  skipHiddenSky(map);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-right");
  wireControls();
  map.on("load", async () => {
    addLayers();
    await Promise.all([loadStatus(), loadCoverage(), loadTrails()]);
    connect();
  });
}

start();
