/**
 * The demo's page: no build step, no library, no network beyond the demo server, only what the
 * browser gives: `EventSource` for the ticker and `fetch` + `ReadableStream` for the POSTed chat.
 * One exception, the "shared across tabs" panel: `/shared.js` is `shared-panel.ts` (SharedSse from
 * `@streamwire/client/browser`), bundled by the server at start.
 * The chart is inline SVG; the favicon is an inline `data:` URL (also served at `/favicon.ico`).
 */

/** The icon (SVG): a pulse on a rounded square. Served at `/favicon.ico` and inlined in the page. */
export const icon =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#5b5bd6"/>` +
  `<path d="M10 36h10l5-14 8 26 6-18 4 6h11" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round" stroke-linejoin="round"/></svg>`

const iconUrl = "data:image/svg+xml," + encodeURIComponent(icon)

export const page = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>streamwire demo</title>
<link rel="icon" type="image/svg+xml" href="${iconUrl}">
<style>
  :root {
    --bg: #f5f6f8; --card: #ffffff; --text: #1a1d23; --muted: #667085; --border: #e3e6eb;
    --accent: #5b5bd6; --accent-text: #ffffff; --soft: #f2f3f6; --ok: #0f9d58; --warn: #d97706; --bad: #dc2626;
    --bar: #8f8ff0; --bar-now: #5b5bd6; --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --bg: #0e1116; --card: #161a21; --text: #e6e9ef; --muted: #8b93a1; --border: #2a303a;
      --accent: #8585f5; --accent-text: #0e1116; --soft: #1d222b; --ok: #34d399; --warn: #fbbf24; --bad: #f87171;
      --bar: #5f5fc9; --bar-now: #9d9dff; --shadow: none;
    }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text);
    font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
  code { background: var(--soft); padding: .05em .35em; border-radius: 4px; }
  .wrap { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
  header { display: flex; align-items: center; gap: .8rem; margin-bottom: 1.1rem; }
  header img { width: 40px; height: 40px; }
  header h1 { font-size: 1.35rem; margin: 0; letter-spacing: -.01em; }
  header p { margin: 0; color: var(--muted); font-size: .9rem; }
  .grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1rem; }
  .wide { grid-column: 1 / -1; }
  @media (max-width: 820px) { .grid { grid-template-columns: minmax(0, 1fr); } }
  .card { background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 1rem 1.1rem;
    box-shadow: var(--shadow); min-width: 0; }
  .card h2 { font-size: 1rem; margin: 0; display: flex; align-items: center; gap: .5rem; flex-wrap: wrap; }
  .card-head { display: flex; align-items: center; justify-content: space-between; gap: .75rem; flex-wrap: wrap; margin-bottom: .8rem; }
  .pill { display: inline-flex; align-items: center; gap: .4rem; padding: .15rem .65rem; border-radius: 999px;
    font-size: .82rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
  .pill::before { content: ""; width: .5rem; height: .5rem; border-radius: 50%; background: currentColor; }
  .state-open { color: var(--ok); } .state-connecting, .state-reconnecting { color: var(--warn); }
  .state-reconnecting::before, .state-connecting::before { animation: blink 1s infinite; }
  .state-closed { color: var(--muted); }
  @keyframes blink { 50% { opacity: .25; } }
  .stats { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .6rem; margin-bottom: .9rem; }
  @media (max-width: 520px) { .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
  .stat { background: var(--soft); border-radius: 10px; padding: .5rem .7rem; }
  .stat b { display: block; font-size: 1.45rem; font-variant-numeric: tabular-nums; line-height: 1.2; }
  .stat span { font-size: .78rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  .stat.good b { color: var(--ok); } .stat.bad b { color: var(--bad); }
  .quote { display: flex; align-items: baseline; gap: .6rem; margin: 0 0 .5rem; }
  .quote .sym { font-weight: 700; color: var(--muted); }
  .quote .px { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
  .up { color: var(--ok); } .down { color: var(--bad); }
  .chart-box { position: relative; }
  #chart { display: block; width: 100%; height: 130px; }
  #chart .bar { fill: var(--bar); } #chart .bar.now { fill: var(--bar-now); }
  #chart .grid-line { stroke: var(--border); stroke-width: 1; }
  #chart .axis { fill: var(--muted); font-size: 10px; font-family: system-ui, sans-serif; }
  #chart .clip { fill: var(--text); font-size: 9px; font-family: system-ui, sans-serif; text-anchor: middle; }
  #chart .mark-drop { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 3 3; }
  #chart .mark-open { stroke: var(--ok); stroke-width: 1.5; stroke-dasharray: 3 3; }
  .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .78rem; color: var(--muted); margin-top: .2rem; }
  .legend i { display: inline-block; width: .9rem; height: 0; border-top: 2px dashed; vertical-align: middle; margin-right: .3rem; }
  .actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: .9rem 0 .4rem; }
  button { font: inherit; font-size: .9rem; padding: .45rem .9rem; border-radius: 8px; cursor: pointer;
    border: 1px solid var(--border); background: var(--card); color: var(--text); }
  button:hover { border-color: var(--accent); }
  button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; }
  button.primary:hover { filter: brightness(1.08); }
  button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
  .meta { color: var(--muted); font-size: .84rem; margin: .35rem 0 0; }
  .facts { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .84rem; color: var(--muted); margin-top: .5rem; }
  .facts b { color: var(--text); font-weight: 600; font-variant-numeric: tabular-nums; }
  .log-card { display: flex; flex-direction: column; }
  #log { flex: 1 1 0; min-height: 18rem; overflow: auto; font: 12px/1.55 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    background: var(--soft); border-radius: 8px; padding: .5rem .7rem; }
  #log div { display: flex; justify-content: space-between; gap: .75rem; white-space: nowrap; }
  #log div span { overflow: hidden; text-overflow: ellipsis; }
  #log div span:first-child { flex: 0 0 auto; }
  #log div span:only-child { flex: 0 1 auto; }
  #log .id { color: var(--muted); } #log .l-quote { color: var(--accent); } #log .l-conn { color: var(--warn); }
  #log .l-open { color: var(--ok); } #log .l-bad { color: var(--bad); font-weight: 600; }
  textarea { width: 100%; font: inherit; padding: .55rem .7rem; border-radius: 8px; border: 1px solid var(--border);
    background: var(--soft); color: var(--text); resize: vertical; }
  textarea:focus { outline: 2px solid var(--accent); outline-offset: 0; }
  .panels { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .8rem; margin-top: .6rem; }
  @media (max-width: 720px) { .panels { grid-template-columns: minmax(0, 1fr); } }
  .panel { border: 1px solid var(--border); border-radius: 10px; padding: .6rem .75rem; background: var(--soft); min-width: 0; }
  .panel-head { display: flex; justify-content: space-between; align-items: center; gap: .5rem; font-size: .82rem; color: var(--muted); margin-bottom: .3rem; }
  .answer { min-height: 5.5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  .badge { font-size: .75rem; font-weight: 600; padding: .05rem .5rem; border-radius: 999px; background: var(--card); border: 1px solid var(--border); }
  .badge.streaming { color: var(--warn); } .badge.done { color: var(--ok); } .badge.error { color: var(--bad); }
  .badge.cancelled { color: var(--muted); }
  .error-box { color: var(--bad); border-left: 3px solid var(--bad); padding: .2rem .6rem; background: var(--card); border-radius: 4px; }
  .note { font-size: .78rem; color: var(--muted); margin-top: .35rem; min-height: 1.1em; }
</style>
</head>
<body>
<div class="wrap">
<header>
  <img src="${iconUrl}" alt="">
  <div>
    <h1>streamwire demo</h1>
    <p>Server-Sent Events and NDJSON on Effect, read by the browser's own <code>EventSource</code> and
      <code>fetch</code> + <code>ReadableStream</code>: no library on this page.</p>
  </div>
</header>

<div class="grid">
<section class="card" id="tickerCard">
  <div class="card-head">
    <h2>Live ticker <code>GET /events</code></h2>
    <span id="status" class="pill state-connecting">connecting</span>
  </div>
  <div class="stats">
    <div class="stat"><b id="received">0</b><span>received</span></div>
    <div class="stat good" id="gapsStat"><b id="gaps">0</b><span>gaps</span></div>
    <div class="stat good" id="dupsStat"><b id="dups">0</b><span>duplicates</span></div>
    <div class="stat"><b id="reconnects">0</b><span>reconnects</span></div>
  </div>
  <div class="quote"><span class="sym">ACME</span><span class="px" id="price">—</span><span id="change"></span></div>
  <div class="chart-box">
    <svg id="chart" viewBox="0 0 600 130" role="img" aria-label="events per second, last 60 seconds"></svg>
    <div class="legend"><span>events per second, last 60 s</span><span><i style="color: var(--bad)"></i>connection lost</span>
      <span><i style="color: var(--ok)"></i>open again</span></div>
  </div>
  <div class="actions">
    <button id="drop" class="primary">Drop the connection</button>
    <button id="reopen">Reopen with <code>?lastEventId=</code></button>
    <button id="stop">Stop</button>
  </div>
  <p class="meta">"Drop" asks the server to cut every <code>/events</code> connection, as a network failure would:
    <code>EventSource</code> reconnects by itself after the server's <code>retry:</code> hint and sends
    <code>Last-Event-ID</code>; the log replays what was missed, then goes on live. Every event carries a
    sequence number, so this page counts gaps and duplicates itself: they stay at 0.</p>
  <div class="facts">
    <span>last event id <b class="mono" id="lastId">none</b></span>
    <span>ticks <b id="ticks">0</b></span>
    <span>quotes <b id="quotes">0</b></span>
    <span>per second now <b id="rate">0</b></span>
    <span title="the server could not resume after our id (a restarted in-memory log, or an expired id) and said so">resets <b id="resets">0</b></span>
  </div>
</section>

<section class="card log-card">
  <div class="card-head"><h2>Events</h2><span class="meta" style="margin: 0">newest first</span></div>
  <div id="log" aria-live="off"></div>
</section>

<section class="card wide">
  <div class="card-head">
    <h2>Chat: a POSTed prompt answered token by token</h2>
  </div>
  <textarea id="prompt" rows="2">What does streaming over HTTP look like?</textarea>
  <div class="actions">
    <button id="sendSse" class="primary">Send as SSE</button>
    <button id="sendNdjson" class="primary">Send as NDJSON</button>
    <button id="sendBoth">Send to both</button>
    <button id="sendBad">Send a bad body (400)</button>
  </div>
  <div class="panels">
    <div class="panel">
      <div class="panel-head"><span>SSE · <code>POST /chat</code></span><span id="stateSse" class="badge">idle</span></div>
      <div id="answerSse" class="answer"></div>
      <div id="noteSse" class="note"></div>
    </div>
    <div class="panel">
      <div class="panel-head"><span>NDJSON · <code>POST /chat.ndjson</code></span><span id="stateNdjson" class="badge">idle</span></div>
      <div id="answerNdjson" class="answer"></div>
      <div id="noteNdjson" class="note"></div>
    </div>
  </div>
  <p class="meta">A new send cancels the answer still streaming in that panel (<code>AbortController</code>): the
    request is aborted, the server's stream is interrupted, and only the new answer is shown.</p>
</section>

<section class="card wide" id="sharedCard">
  <div class="card-head">
    <h2>Shared across tabs <code>GET /shared/events</code></h2>
    <span id="sharedRole" class="pill">loading</span>
  </div>
  <div class="stats">
    <div class="stat"><b id="sharedReceived">0</b><span>received</span></div>
    <div class="stat"><b id="connShared">?</b><span>/shared/events connections</span></div>
    <div class="stat"><b id="connEvents">?</b><span>/events connections</span></div>
    <div class="stat good"><b id="sharedGaps">0</b><span>gaps</span></div>
  </div>
  <div class="actions"><button id="openTab" class="primary">Open another tab</button></div>
  <p class="meta">This panel follows the same ticker with <code>SharedSse</code> from
    <code>@streamwire/client/browser</code> (the one script this page loads, <code>/shared.js</code>): one tab, the
    leader, holds the only <code>/shared/events</code> connection and relays every event to the others over a
    <code>BroadcastChannel</code>. Open more tabs: the server still holds one <code>/shared/events</code> connection,
    and one <code>/events</code> connection per tab (the ticker above is a plain <code>EventSource</code> per tab).
    Close the leading tab: another takes over within a second and resumes with <code>Last-Event-ID</code>.</p>
  <div class="facts">
    <span>this tab <b class="mono" id="sharedTab">?</b></span>
    <span>leading tab <b class="mono" id="sharedLeader">?</b></span>
    <span>last event id <b class="mono" id="sharedLastId">none</b></span>
    <span>duplicates <b id="sharedDups">0</b></span>
  </div>
</section>
</div>
</div>

<script src="/shared.js" defer></script>

<script>
"use strict"
const $ = (id) => document.getElementById(id)

// ---- the ticker -------------------------------------------------------------------------------
let source, lastId = "", everOpen = false, stopped = false, retrying = false
const counts = { received: 0, gaps: 0, dups: 0, reconnects: 0, ticks: 0, quotes: 0, resets: 0 }
let lastSeq = new Map()          // ticker (src) -> the last sequence number received from it
let lastPrice

function line(parts, cls, title) {
  const div = document.createElement("div")
  if (cls) div.className = cls
  if (title) div.title = title
  for (const [text, c] of parts) {
    const span = document.createElement("span")
    span.textContent = text
    if (c) span.className = c
    div.append(span)
  }
  const log = $("log")
  log.prepend(div)
  while (log.childNodes.length > 300) log.lastChild.remove()
}
const pad = (n, w) => String(n).padStart(w || 2, "0")
const clock = (iso) => {                    // local time, to the millisecond
  const d = new Date(iso)
  return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3)
}
const note = (text, cls) => line([["— " + text]], cls || "l-conn")

function show() {
  for (const k of ["received", "gaps", "dups", "reconnects", "ticks", "quotes", "resets"]) $(k).textContent = counts[k]
  $("gapsStat").className = "stat " + (counts.gaps === 0 ? "good" : "bad")
  $("dupsStat").className = "stat " + (counts.dups === 0 ? "good" : "bad")
  $("lastId").textContent = lastId || "none"
}
function setState(state) {
  $("status").textContent = state
  $("status").className = "pill state-" + state
}

// events per second: one bucket per second, the last 60 drawn as bars
const buckets = new Map()        // second -> count
const marks = []                 // { sec, kind: "drop" | "open" }
const nowSec = () => Math.floor(Date.now() / 1000)
let dirty = true

function received(e) {
  counts.received++
  const sec = nowSec()
  buckets.set(sec, (buckets.get(sec) || 0) + 1)
  dirty = true
  lastId = e.lastEventId
  const data = JSON.parse(e.data)
  const last = lastSeq.get(data.src)
  if (last !== undefined && data.seq <= last) {
    counts.dups++
    line([["DUPLICATE seq " + data.seq + " (id " + e.lastEventId + ")"]], "l-bad")
  } else if (last !== undefined && data.seq > last + 1) {
    counts.gaps += data.seq - last - 1
    line([["GAP: " + (data.seq - last - 1) + " event(s) missing before seq " + data.seq]], "l-bad")
  }
  if (last === undefined || data.seq > last) lastSeq.set(data.src, data.seq)
  return data
}

function connect(resumeFrom) {
  const url = resumeFrom ? "/events?lastEventId=" + encodeURIComponent(resumeFrom) : "/events"
  source = new EventSource(url)
  const es = source
  setState(everOpen ? "reconnecting" : "connecting")
  es.onopen = () => {
    if (es !== source) return
    if (everOpen) { counts.reconnects++; marks.push({ sec: nowSec(), kind: "open" }); dirty = true }
    everOpen = true
    retrying = false
    setState("open")
    note("connected to " + url + (lastId && url === "/events" ? " (Last-Event-ID: " + lastId + ")" : ""), "l-open")
    show()
  }
  es.onerror = () => {
    if (es !== source) return
    if (es.readyState === EventSource.CLOSED) {
      setState("closed")
      note("the connection failed and will not be retried")
    } else if ($("status").textContent === "open") {
      setState("reconnecting")
      marks.push({ sec: nowSec(), kind: "drop" }); dirty = true
      note("connection lost; EventSource reconnects with Last-Event-ID " + (lastId || "(none)"))
    } else if (!retrying) {
      retrying = true                                         // the server is down: it keeps trying
      note("no answer; EventSource keeps trying every few seconds")
    }
  }
  es.addEventListener("tick", (e) => {
    const { n, at, seq } = received(e)
    counts.ticks++
    line([["tick #" + n + " at " + clock(at)], ["id " + e.lastEventId, "id"]], "", "seq " + seq)
    show()
  })
  es.addEventListener("quote", (e) => {
    const { symbol, price, seq } = received(e)
    counts.quotes++
    line([["quote " + symbol + " " + price.toFixed(2)], ["id " + e.lastEventId, "id"]], "l-quote", "seq " + seq)
    $("price").textContent = price.toFixed(2)
    if (lastPrice !== undefined) {
      const d = price - lastPrice
      $("change").textContent = (d > 0 ? "▲ " : d < 0 ? "▼ " : "■ ") + Math.abs(d).toFixed(2)
      $("change").className = d > 0 ? "up" : d < 0 ? "down" : ""
    }
    lastPrice = price
    show()
  })
  es.addEventListener("reset", (e) => {
    // the server no longer has the events after our id (expired, or a restarted log): it says so,
    // then replays what it has; sequence numbers start over
    const { reason } = JSON.parse(e.data)
    line([["reset (" + reason + "): the log no longer has the events after " + (lastId || "(none)") + "; replaying what it has"]], "l-bad")
    lastSeq = new Map()
    counts.resets++
    show()
  })
}

$("drop").onclick = async () => {
  try {
    const response = await fetch("/drop", { method: "POST" })
    const { dropped } = await response.json()
    note("the server cut " + dropped + " connection" + (dropped === 1 ? "" : "s") + " to /events")
  } catch (error) {
    note("could not reach the server: " + error.message, "l-bad")
  }
}
$("reopen").onclick = () => {
  source.close()
  note("closed by the page; reopening with ?lastEventId=" + (lastId || "(none)"))
  stopped = false
  $("stop").textContent = "Stop"
  connect(lastId)
}
$("stop").onclick = () => {
  if (stopped) {
    stopped = false
    $("stop").textContent = "Stop"
    connect(lastId)
  } else {
    stopped = true
    source.close()
    setState("closed")
    $("stop").textContent = "Resume"
    note("stopped by the page")
  }
}

const SVG = "http://www.w3.org/2000/svg"
function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name)
  for (const k in attrs) node.setAttribute(k, attrs[k])
  if (text !== undefined) node.textContent = text
  return node
}
function draw() {
  // drawn in CSS pixels (the viewBox follows the element's width), so text is never stretched
  const svg = $("chart"), W = Math.max(200, Math.round(svg.clientWidth || 600)), H = 130, top = 14, bottom = 16, left = 24, n = 60
  svg.setAttribute("viewBox", "0 0 " + W + " " + H)
  const now = nowSec()
  const values = []
  for (let i = n - 1; i >= 0; i--) values.push(buckets.get(now - i) || 0)
  for (const sec of buckets.keys()) if (sec < now - n) buckets.delete(sec)
  while (marks.length > 0 && marks[0].sec < now - n) marks.shift()
  $("rate").textContent = values[n - 2] || 0
  // a burst (the first replay of the retained log) would flatten everything else: the scale is
  // capped a little above the typical rate and taller bars are clipped, with their count on top
  const nonZero = values.filter((v) => v > 0).sort((a, b) => a - b)
  const typical = nonZero.length > 0 ? nonZero[Math.floor(nonZero.length / 2)] : 1
  const max = Math.max(4, Math.min(Math.max(...values), Math.ceil(typical * 2.5)))
  const h = H - top - bottom, bw = (W - left) / n
  const nodes = []
  for (const frac of [0, 0.5, 1]) {
    const y = top + h * (1 - frac)
    nodes.push(el("line", { x1: left, x2: W, y1: y, y2: y, class: "grid-line" }))
    nodes.push(el("text", { x: 0, y: y + 3, class: "axis" }, String(Math.round(max * frac))))
  }
  values.forEach((v, i) => {
    if (v === 0) return
    const bh = Math.max(1.5, h * Math.min(v, max) / max)
    const x = left + i * bw + 1
    nodes.push(el("rect", { x, y: top + h - bh, width: bw - 2, height: bh, rx: 1.5, class: i === n - 1 ? "bar now" : "bar" }))
    if (v > max) nodes.push(el("text", { x: x + bw / 2 - 1, y: top - 3, class: "clip" }, String(v)))
  })
  for (const m of marks) {
    const x = left + (m.sec - (now - n + 1)) * bw + (m.kind === "drop" ? 1 : bw - 1)
    nodes.push(el("line", { x1: x, x2: x, y1: top - 2, y2: top + h, class: "mark-" + m.kind }))
  }
  nodes.push(el("text", { x: left, y: H - 3, class: "axis" }, "-60 s"))
  nodes.push(el("text", { x: W, y: H - 3, class: "axis", "text-anchor": "end" }, "now"))
  svg.replaceChildren(...nodes)
  dirty = false
}
setInterval(() => { dirty = true }, 1000)
addEventListener("resize", () => { dirty = true })
;(function frame() { if (dirty) draw(); requestAnimationFrame(frame) })()
connect()
show()

// ---- the chat ----------------------------------------------------------------------------------
// One running answer per panel: a new send aborts the previous one, whose reader then stops;
// nothing it still had buffered is written once its signal is aborted.
const running = {}

async function errorMessage(response) {
  const text = await response.text()
  let message = text
  try {
    const body = JSON.parse(text)
    if (body && typeof body.message === "string") message = body.message
  } catch {}
  message = message.split("\\n")[0].trim()
  if (message.length > 200) message = message.slice(0, 200) + "…"
  return response.status + " " + (response.statusText || "") + (message ? ": " + message : "")
}

function panel(name) {
  const out = $("answer" + name), state = $("state" + name), noteEl = $("note" + name)
  return {
    start(cancelled) {
      out.textContent = ""
      state.textContent = "streaming…"; state.className = "badge streaming"
      noteEl.textContent = cancelled ? "the previous answer was cancelled" : ""
    },
    append(text) { out.append(text) },
    done() { state.textContent = "done ✓"; state.className = "badge done" },
    error(message) {
      const box = document.createElement("div")
      box.className = "error-box"
      box.textContent = message
      out.append(box)
      state.textContent = "error"; state.className = "badge error"
    }
  }
}

async function send(name, path, body, onText) {
  const previous = running[name]
  if (previous) previous.abort()
  const controller = new AbortController()
  running[name] = controller
  const signal = controller.signal
  const view = panel(name)
  view.start(previous !== undefined && !previous.finished)
  const live = () => !signal.aborted
  try {
    const response = await fetch(path, {
      method: "POST", headers: { "content-type": "application/json" }, body, signal
    })
    if (!response.ok) {
      const message = await errorMessage(response)
      if (live()) view.error(message)
      return
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (!live()) return
      if (done) break
      onText(value, view)
    }
    if (live() && !controller.ended) view.error("the answer ended early")
  } catch (error) {
    if (live()) view.error(error.name === "TypeError" ? "network error: " + error.message : String(error.message || error))
  } finally {
    controller.finished = true
  }
}

function sendSse(body) {
  let buffer = ""
  return send("Sse", "/chat", body, (text, view) => {
    buffer += text
    let end
    while ((end = buffer.indexOf("\\n\\n")) >= 0) {        // one SSE event per blank line
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2)
      let type = "message"
      const data = []
      for (const l of block.split("\\n")) {
        const colon = l.indexOf(":")
        if (colon === 0) continue                           // a comment (heartbeat)
        const field = colon < 0 ? l : l.slice(0, colon)
        let value = colon < 0 ? "" : l.slice(colon + 1)
        if (value.startsWith(" ")) value = value.slice(1)
        if (field === "event") type = value
        else if (field === "data") data.push(value)
      }
      if (type === "token") view.append(data.join("\\n"))
      else if (type === "done") { running.Sse.ended = true; view.done() }
      else if (type === "stream-error") view.error(data.join(" "))
    }
  })
}
function sendNdjson(body) {
  let buffer = ""
  return send("Ndjson", "/chat.ndjson", body, (text, view) => {
    buffer += text
    let end
    while ((end = buffer.indexOf("\\n")) >= 0) {           // one JSON value per line
      const lineText = buffer.slice(0, end); buffer = buffer.slice(end + 1)
      if (lineText.trim() === "") continue
      const value = JSON.parse(lineText)
      if (typeof value.token === "string") view.append(value.token)
      if (value.done) { running.Ndjson.ended = true; view.done() }
    }
  })
}
const prompt = () => JSON.stringify({ prompt: $("prompt").value })
$("sendSse").onclick = () => sendSse(prompt())
$("sendNdjson").onclick = () => sendNdjson(prompt())
$("sendBoth").onclick = () => { sendSse(prompt()); sendNdjson(prompt()) }
$("sendBad").onclick = () => { sendSse('{"prompt": 42}'); sendNdjson("this is not JSON") }
</script>
</body>
</html>
`
