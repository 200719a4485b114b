// airpicture COP page: the picture's data flow: WebSocket deltas (JSON or compact binary)
// applied to the page's state and the track layer's arrays, the first fit, trails, ghost
// tracks, views (the shared picture or one nation alone) and replay. Shares the page's
// globals (cop.js).
/* global state, layer, cop, map, $, getJSON, fmtTime, PICTURE, TRAIL_POINTS, cellOf,
   pointsReset, refreshMap, showHead, loadStatus, loadAlerts, loadDetail */
"use strict";

let socket = null;

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
