// airpicture COP page: MapLibre GL JS map, milsymbol symbols, live deltas over a WebSocket.
// Everything it loads comes from this server (the npm packages are served from node_modules).
/* global maplibregl, ms */
"use strict";

const IDENTITIES = ["pending", "unknown", "assumed_friend", "friend", "neutral", "suspect",
  "hostile"];
// MIL-STD-2525C standard identity letters (position 2 of the SIDC)
const AFFILIATION = { pending: "P", unknown: "U", assumed_friend: "A", friend: "F",
  neutral: "N", suspect: "S", hostile: "H" };
const NATION_COLOURS = { JPN: "#ff6b6b", AUS: "#f7b731", USA: "#4b9bec", PHL: "#20bf6b" };
const PICTURE = "picture";
const TRAIL_POINTS = 40;
const LABEL_LIMIT = 600;
// Above this many tracks in view, ellipses, leaders and trails are left out (the selected
// track keeps its own): at a whole-region zoom they are sub-pixel clutter, and building and
// drawing them for 10,000 tracks costs most of a frame with software GL. Zoom in to see them.
const DETAIL_LIMIT = 1500;
// Above this many tracks the table is rebuilt at most every TABLE_EVERY_MS (a timer, not in
// the frame that applies an update), and only while it is on screen.
const TABLE_LIMIT = 2000;
const TABLE_EVERY_MS = 2000;

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

// The "tracks" source's features, updated in place: one feature per track, by key.
const points = { features: [], index: new Map(), dirty: true };

// Test and debugging hooks.
const cop = (window.cop = {
  ready: false,
  applied: 0,
  errors: [],
  state,
  get map() { return map; },
  visibleKeys() {
    if (!map || !map.getLayer("tracks")) return [];
    const seen = new Set();
    for (const f of map.queryRenderedFeatures({ layers: ["tracks"] })) seen.add(f.properties.key);
    return [...seen];
  },
  visibleCount() { return cop.visibleKeys().length; },
  renderedPosition(key) {
    if (!map) return null;
    const f = map.queryRenderedFeatures({ layers: ["tracks"], filter: ["==", ["get", "key"], key] });
    return f.length ? f[0].geometry.coordinates : null;
  },
  screenPosition(key) {
    const t = state.tracks.get(key);
    if (!t) return null;
    const p = map.project([nearLon(t.lon), t.lat]);
    const r = document.getElementById("map").getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
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

function unwrapLine(points) {
  const out = [];
  for (const [lon, lat] of points) {
    let x = lon;
    if (out.length) {
      const prev = out[out.length - 1][0];
      x = lon + 360 * Math.round((prev - lon) / 360);
    }
    out.push([x, lat]);
  }
  return out;
}

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

// ---------------------------------------------------------------- map

function symbolImages() {
  let offset = [0, 0];
  for (const id of IDENTITIES) {
    const sym = new ms.Symbol(`S${AFFILIATION[id]}AP-----------`, { size: 16, fill: true });
    const canvas = sym.asCanvas(2);
    const ctx = canvas.getContext("2d");
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    map.addImage(`sym-${id}`, img, { pixelRatio: 2 });
    const anchor = sym.getAnchor();
    offset = [canvas.width / 4 - anchor.x / 2, canvas.height / 4 - anchor.y / 2];
  }
  return offset;
}

function emptyFC() { return { type: "FeatureCollection", features: [] }; }

function addLayers() {
  for (const layer of ["land", "coast", "borders"]) {
    map.addSource(layer, { type: "geojson", data: `/api/basemap/${layer}` });
  }
  for (const s of ["coverage", "tracks", "ellipses", "trails", "leaders", "ghosts", "selected"]) {
    map.addSource(s, { type: "geojson", data: emptyFC() });
  }
  map.addLayer({ id: "land", type: "fill", source: "land",
    paint: { "fill-color": "#223240" } });
  map.addLayer({ id: "coverage-fill", type: "fill", source: "coverage",
    layout: { visibility: "none" }, filter: ["==", ["get", "part"], "area"],
    paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.05 } });
  map.addLayer({ id: "coverage-line", type: "line", source: "coverage",
    layout: { visibility: "none" }, filter: ["==", ["get", "part"], "edge"],
    paint: { "line-color": ["get", "colour"], "line-opacity": 0.55, "line-width": 1 } });
  map.addLayer({ id: "coast", type: "line", source: "coast",
    paint: { "line-color": "#4f6b80", "line-width": 0.8 } });
  map.addLayer({ id: "borders", type: "line", source: "borders",
    paint: { "line-color": "#6d8596", "line-width": 0.7, "line-dasharray": [3, 2] } });
  map.addLayer({ id: "trails", type: "line", source: "trails",
    paint: { "line-color": "#9fd3ff", "line-opacity": 0.5, "line-width": 1.2 } });
  map.addLayer({ id: "ellipses", type: "fill", source: "ellipses",
    paint: { "fill-color": "#ffffff", "fill-opacity": 0.08 } });
  map.addLayer({ id: "ellipses-line", type: "line", source: "ellipses",
    paint: { "line-color": "#ffffff", "line-opacity": 0.45, "line-width": 0.8 } });
  map.addLayer({ id: "leaders", type: "line", source: "leaders",
    paint: { "line-color": "#d8e2ea", "line-opacity": 0.7, "line-width": 1 } });
  map.addLayer({ id: "ghosts", type: "circle", source: "ghosts",
    paint: { "circle-radius": 4, "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": "#8a99a6", "circle-stroke-width": 1, "circle-stroke-opacity": 0.7 } });
  map.addLayer({ id: "selected", type: "circle", source: "selected",
    paint: { "circle-radius": 17, "circle-color": "rgba(255,255,255,0.08)",
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
  const offset = symbolImages();
  map.addLayer({ id: "tracks", type: "symbol", source: "tracks",
    layout: { "icon-image": ["concat", "sym-", ["get", "identity"]],
      "icon-allow-overlap": true, "icon-ignore-placement": true, "icon-offset": offset } });
  map.on("click", "tracks", (e) => { if (e.features.length) select(e.features[0].properties.key); });
  map.on("mouseenter", "tracks", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "tracks", () => { map.getCanvas().style.cursor = ""; });
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

function point(t) {
  return { type: "Feature", geometry: { type: "Point", coordinates: [t.lon, t.lat] },
    properties: { key: t.key, identity: t.identity, stn: t.stn ?? -1 } };
}

function pointsReset() {
  points.features = [];
  points.index.clear();
  for (const t of state.tracks.values()) pointPut(t);
}

function pointPut(t) {
  const i = points.index.get(t.key);
  if (i === undefined) {
    points.index.set(t.key, points.features.length);
    points.features.push(point(t));
  } else {
    points.features[i] = point(t);
  }
  points.dirty = true;
}

function pointMove(t) {
  const i = points.index.get(t.key);
  if (i === undefined) { pointPut(t); return; }
  const c = points.features[i].geometry.coordinates;
  c[0] = t.lon; c[1] = t.lat;
  points.dirty = true;
}

function pointRemove(key) {
  const i = points.index.get(key);
  if (i === undefined) return;
  const last = points.features.pop();
  if (i < points.features.length) {
    points.features[i] = last;
    points.index.set(last.properties.key, i);
  }
  points.index.delete(key);
  points.dirty = true;
}

// Sets a GeoJSON source's features, unless it was empty and stays empty: every setData
// reloads the source's tiles and re-renders the map (on software GL a frame of its own).
const sourceSizes = new Map();
function setFeatures(name, features) {
  if (features.length === 0 && sourceSizes.get(name) === 0) return;
  map.getSource(name).setData({ type: "FeatureCollection", features });
  sourceSizes.set(name, features.length);
}

function refreshMap() {
  const tracks = [...state.tracks.values()];
  const detail = detailTracks(tracks);
  state.detailed = detail.length;
  if (points.dirty) {  // once per update; not when only the selection or the layers changed
    map.getSource("tracks").setData({ type: "FeatureCollection", features: points.features });
    points.dirty = false;
  }
  setFeatures("ellipses", $("ly-ellipses").checked ? detail.map((t) => ({ type: "Feature",
    properties: {}, geometry: { type: "Polygon", coordinates: [ellipseRing(t)] } })) : []);
  setFeatures("leaders", detail.map((t) => ({ type: "Feature", properties: {},
    geometry: { type: "LineString", coordinates: leader(t) } })));
  const trails = [];
  if ($("ly-trails").checked) {
    for (const t of detail) {
      const pts = state.trails.get(t.key);
      if (pts && pts.length > 1) {
        trails.push({ type: "Feature", properties: {},
          geometry: { type: "LineString", coordinates: unwrapLine(pts) } });
      }
    }
  }
  setFeatures("trails", trails);
  const ghosts = state.view !== PICTURE && $("ly-ghosts").checked ? state.ghosts : [];
  setFeatures("ghosts", ghosts.map(point));
  const sel = state.tracks.get(state.selected);
  setFeatures("selected", sel ? [point(sel)] : []);
  scheduleTable();
  cop.applied += 1;
}

let labelsBlank = false;
function drawLabels() {
  const canvas = $("labels");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) {
    canvas.width = w * dpr; canvas.height = h * dpr;
  }
  const ctx = canvas.getContext("2d");
  const off = !$("ly-labels").checked || state.tracks.size > LABEL_LIMIT;
  if (off && labelsBlank) return;  // nothing drawn last time: nothing to clear
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  labelsBlank = off;
  if (off) return;
  ctx.font = "11px system-ui, 'DejaVu Sans', sans-serif";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(8,18,26,0.85)";
  const taken = [];  // label boxes already drawn: a label that would overlap one is left out
  const order = [...state.tracks.values()].sort((a, b) =>
    (b.key === state.selected) - (a.key === state.selected) || (a.stn ?? 0) - (b.stn ?? 0));
  for (const t of order) {
    const p = map.project([nearLon(t.lon), t.lat]);
    if (p.x < -50 || p.y < -50 || p.x > w + 50 || p.y > h + 50) continue;
    const lines = [t.stn != null ? `${t.stn}${t.local_id != null ? " · " + t.key : ""}` : t.key,
      t.callsign || "", `FL${String(t.fl).padStart(3, "0")} ${Math.round(t.speed_kt)}kt`];
    const box = [p.x + 12, p.y - 23, p.x + 14 + Math.max(...lines.map((l) => ctx.measureText(l).width)), p.y + 14];
    if (taken.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
    taken.push(box);
    let y = p.y - 12;
    for (const [i, text] of lines.entries()) {
      if (!text) continue;
      ctx.fillStyle = i === 0 ? "#ffffff" : "#bcd3e4";
      ctx.strokeText(text, p.x + 14, y);
      ctx.fillText(text, p.x + 14, y);
      y += 12;
    }
  }
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
  if (replace) pointsReset(); else for (const t of list) pointPut(t);
}

function removeTracks(keys) {
  for (const k of keys) {
    state.tracks.delete(k); state.trails.delete(k); pointRemove(k);
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
    pointMove(t);
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

function showHead(msg) {
  $("st-epoch").textContent = msg.epoch;
  $("st-time").textContent = fmtTime(msg.time);
  $("st-hash").textContent = (msg.hash || "").slice(0, 12);
  $("st-tracks").textContent = msg.view === PICTURE ? msg.count : `${msg.count} (${msg.view})`;
}

async function loadStatus() {
  const s = await getJSON("/api/status");
  state.status = s;
  $("partners").innerHTML = (s.partners || []).map((p) =>
    `<span class="chip ${esc(p.link)}" title="last report ${fmtTime(p.last_report)}, ` +
    `${p.received} records, ${p.rejected} rejected">${esc(p.nation)} ${esc(p.link)}</span>`).join("");
  const views = $("views");
  const names = [PICTURE, ...(s.nations || [])];
  if (views.children.length !== names.length) {
    views.innerHTML = names.map((n) => `<button data-view="${esc(n)}">${
      n === PICTURE ? "Shared picture" : esc(n) + " alone"} <span></span></button>`).join("");
    for (const b of views.querySelectorAll("button")) b.onclick = () => setView(b.dataset.view);
  }
  for (const b of views.querySelectorAll("button")) {
    const n = b.dataset.view;
    b.classList.toggle("on", n === state.view);
    b.querySelector("span").textContent = `(${n === PICTURE ? s.tracks : (s.own_tracks || {})[n] ?? 0})`;
  }
  if (s.history && s.history.count !== state.history.length) await loadHistory();
}

async function loadHistory() {
  const h = await getJSON("/api/history");
  state.history = h.times;
  const slider = $("slider");
  const atEnd = Number(slider.value) >= Number(slider.max);
  slider.max = Math.max(0, h.times.length - 1);
  if (state.live || atEnd) slider.value = slider.max;
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

async function loadAlerts() {
  const alerts = await getJSON("/api/alerts");
  $("alert-count").textContent = alerts.length;
  $("alerts").innerHTML = alerts.map((a) => `<li data-stn="${a.stn ?? ""}"><b>${esc(a.kind)}</b> ` +
    `${a.stn != null ? "STN " + a.stn + " — " : ""}${esc(a.reason)}<br><span class="hint">` +
    `${esc(a.explanation)}</span></li>`).join("");
  for (const li of $("alerts").children) {
    li.onclick = () => { if (li.dataset.stn) { setView(PICTURE); select(`S${li.dataset.stn}`, true); } };
  }
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

// ---------------------------------------------------------------- table and detail

let tableTimer = null;
let tableAt = 0;
function scheduleTable() {
  if (state.tracks.size <= TABLE_LIMIT) { renderTable(); return; }
  if (tableTimer) return;
  const wait = Math.max(0, tableAt + TABLE_EVERY_MS - performance.now());
  tableTimer = setTimeout(() => {
    tableTimer = null;
    const box = $("tracks").getBoundingClientRect();
    if (box.width === 0 || box.bottom < 0 || box.top > window.innerHeight) return;
    renderTable();
  }, Math.max(wait, 50));
}

function renderTable() {
  tableAt = performance.now();
  const f = state.filter.toLowerCase();
  let rows = [...state.tracks.values()];
  if (f) {
    rows = rows.filter((t) => [t.stn, t.key, t.callsign, t.identity, (t.nations || []).join(" "),
      t.icao].join(" ").toLowerCase().includes(f));
  }
  const { col, dir } = state.sort;
  const val = (t) => (col === "nations" ? (t.nations || []).join(",") : t[col] ?? "");
  rows.sort((a, b) => {
    const x = val(a), y = val(b);
    return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
  });
  rows = rows.slice(0, 400);
  $("tracks").querySelector("tbody").innerHTML = rows.map((t) =>
    `<tr data-key="${esc(t.key)}" class="${t.key === state.selected ? "sel" : ""}">` +
    `<td>${t.stn ?? "–"}</td><td>${esc(t.callsign || "")}</td><td>${t.fl}</td>` +
    `<td>${Math.round(t.speed_kt)}</td><td class="id-${t.identity}">${esc(t.identity)}</td>` +
    `<td>${esc((t.nations || []).join(" "))}</td></tr>`).join("");
  for (const th of $("tracks").querySelectorAll("th")) {
    th.className = th.dataset.col === col ? (dir > 0 ? "asc" : "desc") : "";
  }
}

function select(key, fly) {
  state.selected = key;
  const t = state.tracks.get(key);
  if (t && fly) map.flyTo({ center: [nearLon(t.lon), t.lat], zoom: Math.max(map.getZoom(), 6) });
  refreshMap();
  loadDetail();
}

async function loadDetail() {
  const t = state.tracks.get(state.selected);
  if (!t) { $("detail").classList.add("hidden"); return; }
  $("detail").classList.remove("hidden");
  $("d-title").textContent = t.stn != null ? `STN ${t.stn}` : t.key;
  let prov = null;
  if (t.stn != null && state.live) {
    try { prov = await getJSON(`/api/tracks/${t.stn}`); } catch (e) { prov = null; }
  }
  const own = t.local_id != null ? `<dt>local track</dt><dd>${esc(t.key)}</dd>` : "";
  let html = `<dl>${own}
    <dt>callsign</dt><dd>${esc(t.callsign || "–")}</dd>
    <dt>ICAO / 3A</dt><dd>${esc(t.icao || "–")} / ${esc(t.mode3a || "–")}</dd>
    <dt>identity</dt><dd class="id-${t.identity}">${esc(t.identity)}${prov && prov.system.identity_reason
      ? " — " + esc(prov.system.identity_reason) : ""}</dd>
    <dt>status</dt><dd>${esc(t.status)}, quality ${t.quality.toFixed(2)}</dd>
    <dt>position</dt><dd>${t.lat.toFixed(3)}°, ${t.lon.toFixed(3)}°</dd>
    <dt>FL / speed</dt><dd>FL${t.fl} · ${Math.round(t.speed_kt)} kt · ${Math.round(t.course_deg)}° · ${t.vrate_ms} m/s</dd>
    <dt>2σ ellipse</dt><dd>${Math.round(t.ell[0])} × ${Math.round(t.ell[1])} m, ${Math.round(t.ell[2])}°</dd>
    <dt>nations</dt><dd>${(t.nations || []).map((n) => `<span class="chip" style="border-color:${nationColour(n)}">${esc(n)}</span>`).join("")}</dd>
    </dl>`;
  if (prov) {
    html += `<h3>Provenance</h3><table class="contrib"><tr><th>nation</th><th>local</th>` +
      `<th>sensors</th><th>age</th><th>quality</th></tr>` +
      prov.contributors.map((c) => `<tr><td>${esc(c.nation)}</td><td>${c.track_id}</td><td>${
        (c.sensors || []).map((s) => esc(s.id)).join("<br>") || "–"}</td><td>${
        c.age_s != null ? c.age_s + " s" : "–"}</td><td>${c.quality != null ? c.quality.toFixed(2) : "–"}</td></tr>`).join("") +
      `</table><h3>Identity history</h3><ul class="hist">` +
      (prov.identity_history.length ? prov.identity_history.map((h) => `<li>${fmtTime(h.time)} ` +
        `<span class="id-${h.identity}">${esc(h.identity)}</span> ${h.operator ? "by " + esc(h.operator) +
        (h.nation ? " (" + esc(h.nation) + ")" : "") : "automatic"}${h.reason ? " — " + esc(h.reason) : ""}</li>`).join("")
        : "<li>–</li>") + "</ul>";
  }
  $("d-body").innerHTML = html;
  $("d-action").style.display = t.stn != null && state.live ? "" : "none";
  $("d-identity").value = t.identity;
}

async function setIdentity() {
  const t = state.tracks.get(state.selected);
  if (!t || t.stn == null) return;
  const body = { identity: $("d-identity").value, operator: $("d-operator").value,
    reason: $("d-reason").value };
  try {
    await getJSON(`/api/tracks/${t.stn}/identity`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $("d-msg").textContent = `STN ${t.stn}: ${body.identity} recorded`;
  } catch (e) {
    $("d-msg").textContent = `refused: ${e.message}`;
  }
}

// ---------------------------------------------------------------- start

async function loadCoverage() {
  const doc = await getJSON("/api/coverage");
  for (const f of doc.features) f.properties.colour = nationColour(f.properties.nation);
  map.getSource("coverage").setData(doc);
  $("legend").innerHTML = [...new Set(doc.features.map((f) => f.properties.nation))].map((n) =>
    `<span><i style="display:inline-block;width:10px;height:10px;background:${nationColour(n)}"></i>${esc(n)}</span>`).join("");
}

function wireControls() {
  $("d-identity").innerHTML = IDENTITIES.map((i) => `<option value="${i}">${i}</option>`).join("");
  $("d-set").onclick = setIdentity;
  $("d-close").onclick = () => { state.selected = null; $("detail").classList.add("hidden"); refreshMap(); };
  $("filter").oninput = (e) => { state.filter = e.target.value; renderTable(); };
  for (const th of $("tracks").querySelectorAll("th")) {
    th.onclick = () => {
      state.sort = { col: th.dataset.col, dir: state.sort.col === th.dataset.col ? -state.sort.dir : 1 };
      renderTable();
    };
  }
  $("tracks").querySelector("tbody").onclick = (e) => {
    const tr = e.target.closest("tr");
    if (tr) select(tr.dataset.key, true);
  };
  for (const id of ["ly-trails", "ly-ellipses", "ly-ghosts", "ly-labels"]) {
    $(id).onchange = () => { refreshMap(); map.triggerRepaint(); };
  }
  $("ly-coverage").onchange = (e) => {
    for (const l of ["coverage-fill", "coverage-line"]) {
      map.setLayoutProperty(l, "visibility", e.target.checked ? "visible" : "none");
    }
  };
  $("ly-area").onchange = subscribe;
  $("fl-lo").onchange = subscribe;
  $("fl-hi").onchange = subscribe;
  $("slider").oninput = (e) => {
    const i = Number(e.target.value);
    if (i >= state.history.length - 1 && state.live) return;
    setLive(false);
    replayAt(i);
  };
  $("live").onclick = () => setLive(true);
}

function start() {
  map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [
      { id: "sea", type: "background", paint: { "background-color": "#0d2233" } }] },
    center: [150, 10], zoom: 2.3, attributionControl: false, fadeDuration: 0,
    renderWorldCopies: true,
  });
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
