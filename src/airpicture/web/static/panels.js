// airpicture COP page: the side panels (status bar, views, alerts, track table, selected
// track with its provenance, operator identity) and the controls. Shares the page's
// globals (cop.js).
/* global state, layer, PICTURE, IDENTITIES, $, setHTML, esc, fmtTime, nationColour, getJSON,
   setView, select, map, refreshMap, subscribe, setLive, replayAt */
"use strict";

// Above this many tracks the table is rebuilt at most every TABLE_EVERY_MS (a timer, not in
// the frame that applies an update), and only while it is on screen.
const TABLE_LIMIT = 2000;
const TABLE_EVERY_MS = 2000;
// The table's rows: down to TABLE_AHEAD rows below its scrolled-to part, at least
// TABLE_MIN_ROWS and at most TABLE_MAX_ROWS; scrolling near the last one renders more (with
// 10,000 tracks, 400 rows each update were a good part of the page's work).
const TABLE_MIN_ROWS = 100;
const TABLE_MAX_ROWS = 400;
const TABLE_AHEAD = 50;
const table = { rows: 0, of: 0 };  // rows rendered, of rows matching

function showHead(msg) {
  $("st-epoch").textContent = msg.epoch;
  $("st-time").textContent = fmtTime(msg.time);
  $("st-hash").textContent = (msg.hash || "").slice(0, 12);
  $("st-tracks").textContent = msg.view === PICTURE ? msg.count : `${msg.count} (${msg.view})`;
}

async function loadStatus() {
  const s = await getJSON("/api/status");
  state.status = s;
  setHTML($("partners"), (s.partners || []).map((p) =>
    `<span class="chip ${esc(p.link)}" title="last report ${fmtTime(p.last_report)}, ` +
    `${p.received} records, ${p.rejected} rejected">${esc(p.nation)} ${esc(p.link)}</span>`)
    .join(""));
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
    const count = `(${n === PICTURE ? s.tracks : (s.own_tracks || {})[n] ?? 0})`;
    const span = b.querySelector("span");
    if (span.textContent !== count) span.textContent = count;
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

async function loadAlerts() {
  const alerts = await getJSON("/api/alerts");
  $("alert-count").textContent = alerts.length;
  const html = alerts.map((a) => `<li data-stn="${a.stn ?? ""}"><b>${esc(a.kind)}</b> ` +
    `${a.stn != null ? "STN " + a.stn + " — " : ""}${esc(a.reason)}<br><span class="hint">` +
    `${esc(a.explanation)}</span></li>`).join("");
  if (!setHTML($("alerts"), html)) return;
  for (const li of $("alerts").children) {
    li.onclick = () => { if (li.dataset.stn) { setView(PICTURE); select(`S${li.dataset.stn}`, true); } };
  }
}

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
  const tbody = $("tracks").querySelector("tbody"), wrap = $("tracks").parentElement;
  const rowPx = tbody.firstElementChild ? tbody.firstElementChild.offsetHeight || 1 : 1;
  const wanted = Math.ceil((wrap.scrollTop + wrap.clientHeight) / rowPx) + TABLE_AHEAD;
  table.of = rows.length;
  rows = rows.slice(0, Math.min(TABLE_MAX_ROWS, Math.max(TABLE_MIN_ROWS, wanted)));
  table.rows = rows.length;
  tbody.innerHTML = rows.map((t) =>
    `<tr data-key="${esc(t.key)}" class="${t.key === state.selected ? "sel" : ""}">` +
    `<td>${t.stn ?? "–"}</td><td>${esc(t.callsign || "")}</td><td>${t.fl}</td>` +
    `<td>${Math.round(t.speed_kt)}</td><td class="id-${t.identity}">${esc(t.identity)}</td>` +
    `<td>${esc((t.nations || []).join(" "))}</td></tr>`).join("");
  for (const th of $("tracks").querySelectorAll("th")) {
    th.className = th.dataset.col === col ? (dir > 0 ? "asc" : "desc") : "";
  }
}

/** The track whose identity the detail panel's selector shows, and whether the operator
 * changed the selector since (then updates do not reset it). */
const identityChoice = { key: null, touched: false };

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
  // An update re-renders the panel every second: keep an operator's unsent choice.
  if (identityChoice.key !== state.selected || !identityChoice.touched) {
    $("d-identity").value = t.identity;
    identityChoice.key = state.selected;
    identityChoice.touched = false;
  }
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
    identityChoice.touched = false;
  } catch (e) {
    $("d-msg").textContent = `refused: ${e.message}`;
  }
}

function wireControls() {
  $("d-identity").innerHTML = IDENTITIES.map((i) => `<option value="${i}">${i}</option>`).join("");
  $("d-set").onclick = setIdentity;
  $("d-identity").onchange = () => { identityChoice.touched = true; };
  $("d-close").onclick = () => { state.selected = null; $("detail").classList.add("hidden"); refreshMap(); };
  $("filter").oninput = (e) => { state.filter = e.target.value; renderTable(); };
  for (const th of $("tracks").querySelectorAll("th")) {
    th.onclick = () => {
      state.sort = { col: th.dataset.col, dir: state.sort.col === th.dataset.col ? -state.sort.dir : 1 };
      renderTable();
    };
  }
  $("tracks").parentElement.onscroll = (e) => {  // near the last row rendered: render more
    const wrap = e.target, last = $("tracks").querySelector("tbody").lastElementChild;
    const below = last ? last.getBoundingClientRect().top - wrap.getBoundingClientRect().top : 0;
    if (table.rows < Math.min(table.of, TABLE_MAX_ROWS) && below < 2 * wrap.clientHeight) {
      renderTable();
    }
  };
  $("tracks").querySelector("tbody").onclick = (e) => {
    const tr = e.target.closest("tr");
    if (tr) select(tr.dataset.key, true);
  };
  for (const id of ["ly-trails", "ly-ellipses", "ly-ghosts", "ly-labels"]) {
    $(id).onchange = () => { refreshMap(); map.triggerRepaint(); };
  }
  $("ly-coverage").onchange = (e) => layer.setCoverage(layer.coverage, e.target.checked);
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
