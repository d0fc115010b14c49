// The page: polls /status, builds the control surface from /parameters, sends changes to
// POST /control (the runtime enqueues them as control events).  Plain JS, no build step.
"use strict";
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "X-Token": token } : {};
const $ = (id) => document.getElementById(id);
const controls = {};     // address -> {row, update(value)}
let dragging = null;     // the slider a finger is on: not overwritten by polls

function send(address, value) {
  const body = value === undefined ? { address } : { address, value };
  return fetch("control", { method: "POST", headers: { ...headers, "Content-Type": "application/json" },
                            body: JSON.stringify(body) })
    .then((r) => { if (!r.ok) r.json().then((d) => console.warn(d.error)); })
    .catch(() => {});
}

function throttled(fn, ms) {
  let last = 0, timer = null, pending = null;
  return (...args) => {
    pending = args;
    const wait = ms - (Date.now() - last);
    if (wait <= 0) { last = Date.now(); fn(...pending); pending = null; }
    else if (!timer) timer = setTimeout(() => { timer = null; last = Date.now(); if (pending) fn(...pending); pending = null; }, wait);
  };
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  return String(v);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function paramRow(p) {
  const row = el("div", "param");
  row.dataset.address = p.address;
  const head = el("div", "head");
  head.append(el("span", "addr", p.address));
  const val = el("span", "val", fmt(p.value ?? p.default));
  head.append(val);
  row.append(head);
  if (p.description) row.append(el("div", "desc", p.description));
  let update = (v) => { val.textContent = fmt(v); };
  if ((p.type === "float" || p.type === "int") && p.range) {
    const s = el("input");
    s.type = "range"; s.min = p.range[0]; s.max = p.range[1];
    s.step = p.type === "int" ? 1 : (p.range[1] - p.range[0]) / 200 || 0.01;
    s.value = p.value ?? p.default ?? p.range[0];
    s.setAttribute("aria-label", p.address);
    const push = throttled((v) => send(p.address, v), 80);
    s.addEventListener("input", () => { dragging = s; const v = Number(s.value); val.textContent = fmt(v); push(v); });
    s.addEventListener("change", () => { send(p.address, Number(s.value)); dragging = null; });
    row.append(s);
    update = (v) => { val.textContent = fmt(v); if (dragging !== s && v !== null && v !== undefined) s.value = v; };
  } else if (p.type === "bool") {
    const b = el("button", "", "toggle");
    let cur = !!(p.value ?? p.default);
    b.addEventListener("click", () => send(p.address, !cur));
    row.append(b);
    update = (v) => { cur = !!v; val.textContent = fmt(v); b.classList.toggle("on", cur); b.textContent = cur ? "on" : "off"; };
    update(cur);
  } else if (p.type === "trigger") {
    const b = el("button", "", p.address.split("/").pop());
    b.addEventListener("click", () => send(p.address));
    row.append(b);
    val.textContent = "";
  } else if (p.type === "str" && p.choices) {
    const box = el("div", "choices");
    for (const c of p.choices) {
      const b = el("button", "", c);
      b.addEventListener("click", () => send(p.address, c));
      box.append(b);
    }
    row.append(box);
  } else {
    return null;  // a free number or text: not steerable from a phone page
  }
  controls[p.address] = { row, update };
  return row;
}

// what a performer reaches for first: cues and scenes, then the output, the walk, the rest
const ORDER = ["/cue/", "/scene", "/output/", "/walk/", "/layer/", "/crossfade/", "/transition/", "/post/"];
const rank = (a) => { const i = ORDER.findIndex((p) => a.startsWith(p)); return i < 0 ? ORDER.length : i; };

function buildControls(params) {
  const box = $("controls");
  box.textContent = "";
  params = [...params].sort((a, b) => rank(a.address) - rank(b.address) || a.address.localeCompare(b.address));
  for (const p of params) {
    if (!p.writable) continue;
    const row = paramRow(p);
    if (row) box.append(row);
  }
}

function showStatus(s) {
  $("show").textContent = s.show || "";
  document.title = (s.show || "installation") + " · " + (s.scene || "");
  $("scene").textContent = s.scene || "–";
  const cue = s.cue || {};
  $("cues-now").textContent = `${cue.playing ?? "–"} · ${cue.standby || "–"}`;
  const next = $("next");
  next.textContent = "";
  for (const c of cue.next || []) next.append(el("li", "", `${c.name} (${c["continue"]}, ${fmt(c.length)} s)`));
  const sch = s.schedule;
  $("schedule").textContent = sch
    ? `schedule ${sch.timezone || "local time"}: ${Object.entries(sch.hours).map(([d, r]) => d + " " + r.join(", ")).join("; ")}`
      + (sch.open === null ? "" : sch.open ? " · open now" : " · closed now")
    : "no opening hours: plays around the clock";
  const m = s.monitor || {};
  const figures = {
    "fps": `${fmt(m.fps ?? s.fps)} / ${fmt(m.target_fps)}`, "health": s.health, "dropped frames": m.dropped_frames,
    "plugin faults": m.plugin_faults, "plugin restarts": m.plugin_restarts, "supervisor restarts": m.supervisor_restarts,
    "refused inputs": s.rejected, "memory": m.memory ? `${fmt(m.memory.rss_mb)} MiB` : undefined,
    "uptime": m.uptime_s !== undefined ? `${Math.round(m.uptime_s)} s` : undefined,
  };
  const dl = $("health");
  dl.textContent = "";
  for (const [k, v] of Object.entries(figures)) { dl.append(el("dt", "", k)); dl.append(el("dd", "", fmt(v))); }
  for (const [addr, v] of Object.entries(s.params || {})) if (controls[addr]) controls[addr].update(v);
}

async function poll() {
  try {
    const r = await fetch("status", { headers, cache: "no-store" });
    if (!r.ok) throw new Error(r.status);
    showStatus(await r.json());
    $("conn").textContent = "live"; $("conn").className = "conn ok";
  } catch (e) {
    $("conn").textContent = "no connection"; $("conn").className = "conn bad";
  }
  setTimeout(poll, 500);
}

function refreshThumb() {
  const img = $("thumb");
  const next = new Image();
  next.onload = () => { img.src = next.src; setTimeout(refreshThumb, 1000); };
  next.onerror = () => setTimeout(refreshThumb, 2000);
  next.src = "thumbnail.jpg?" + (token ? "token=" + encodeURIComponent(token) + "&" : "") + "t=" + Date.now();
}

document.querySelectorAll("button[data-address]").forEach((b) => b.addEventListener("click", () => send(b.dataset.address)));
fetch("parameters", { headers }).then((r) => r.json()).then((d) => buildControls(d.parameters)).finally(poll);
refreshThumb();
