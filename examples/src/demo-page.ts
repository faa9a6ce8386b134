/**
 * The demo's page: no build step, no library, only what the browser gives: `EventSource` for the
 * ticker and `fetch` + `ReadableStream` for the POSTed chat.
 */
export const page = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>streamwire demo</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  .row { display: flex; gap: 1rem; flex-wrap: wrap; }
  .box { flex: 1 1 26rem; border: 1px solid #ccc; border-radius: 6px; padding: .75rem; }
  #log { height: 14rem; overflow: auto; font: 12px/1.4 ui-monospace, monospace; background: #fafafa; padding: .5rem; }
  .answer { min-height: 4rem; white-space: pre-wrap; background: #fafafa; padding: .5rem; border-radius: 4px; }
  .status { font-weight: 600; } .open { color: #080; } .connecting { color: #b60; } .closed { color: #b00; }
  textarea { width: 100%; box-sizing: border-box; } button { margin: .3rem .3rem 0 0; }
  .quote { color: #06c; } .reset { color: #b00; font-weight: 600; } .meta { color: #777; font-size: 12px; }
</style>
</head>
<body>
<h1>streamwire demo</h1>
<p>Server-Sent Events and NDJSON on Effect. The ticker below uses the browser's own
<code>EventSource</code>; the chat uses <code>fetch</code> and a <code>ReadableStream</code>.</p>

<h2>Ticker: <code>GET /events</code> (an EventLog, resumable)</h2>
<div class="box">
  <div>Status: <span id="status" class="status">…</span> · last event id: <code id="lastId">none</code>
    · ticks: <span id="ticks">0</span> · quotes: <span id="quotes">0</span></div>
  <button id="drop">Drop the connection and resume (?lastEventId=…)</button>
  <button id="stop">Stop</button>
  <div class="meta">EventSource reconnects by itself after a network error (the server sent <code>retry: 2000</code>)
    and sends <code>Last-Event-ID</code>; "Drop" closes it and opens a new one with the id in the query string.
    Either way, no event is lost or repeated.</div>
  <div id="log"></div>
</div>

<h2>Chat: a POSTed prompt answered token by token</h2>
<div class="box">
  <textarea id="prompt" rows="2">What does streaming over HTTP look like?</textarea>
  <button id="sendSse">Send (POST /chat, SSE)</button>
  <button id="sendNdjson">Send (POST /chat.ndjson, NDJSON)</button>
  <button id="sendBad">Send a bad body (400)</button>
  <div class="row">
    <div class="box"><div class="meta">SSE</div><div id="answerSse" class="answer"></div></div>
    <div class="box"><div class="meta">NDJSON</div><div id="answerNdjson" class="answer"></div></div>
  </div>
</div>

<script>
const $ = (id) => document.getElementById(id)
let source, lastId = "", ticks = 0, quotes = 0, seen = new Set()

function line(text, cls) {
  const div = document.createElement("div")
  div.textContent = text
  if (cls) div.className = cls
  $("log").prepend(div)
  while ($("log").childNodes.length > 200) $("log").lastChild.remove()
}
function status() {
  const s = !source ? "closed" : ["connecting", "open", "closed"][source.readyState]
  $("status").textContent = s
  $("status").className = "status " + s
}
function connect(resumeFrom) {
  const url = resumeFrom ? "/events?lastEventId=" + encodeURIComponent(resumeFrom) : "/events"
  source = new EventSource(url)
  status()
  source.onopen = () => { status(); line("— connected to " + url) }
  source.onerror = () => { status(); line("— connection lost, EventSource will reconnect with Last-Event-ID " + (lastId || "(none)")) }
  const track = (e) => {
    if (seen.has(e.lastEventId)) line("DUPLICATE " + e.lastEventId, "reset")
    seen.add(e.lastEventId)
    lastId = e.lastEventId
    $("lastId").textContent = lastId
  }
  source.addEventListener("tick", (e) => {
    track(e); ticks++; $("ticks").textContent = ticks
    const { n, at } = JSON.parse(e.data)
    line("tick #" + n + " at " + at + "  (id " + e.lastEventId + ")")
  })
  source.addEventListener("quote", (e) => {
    track(e); quotes++; $("quotes").textContent = quotes
    const { symbol, price } = JSON.parse(e.data)
    line("quote " + symbol + " " + price.toFixed(2) + "  (id " + e.lastEventId + ")", "quote")
  })
  source.addEventListener("reset", (e) => {
    line("reset: the id we had is no longer retained (" + e.data + "); replaying what the log has", "reset")
    seen = new Set()
  })
}
$("drop").onclick = () => { source.close(); line("— dropped; resuming after " + (lastId || "(none)")); connect(lastId) }
$("stop").onclick = () => { source.close(); status(); line("— stopped") }
connect()

async function post(path, body, onChunk) {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body })
  if (!response.ok) return onChunk(null, response.status + " " + (await response.text()))
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  while (true) {
    const { value, done } = await reader.read()
    if (done) break
    onChunk(value)
  }
}
function sendSse(body) {
  const out = $("answerSse"); out.textContent = ""
  let buffer = ""
  post("/chat", body, (text, error) => {
    if (error) return (out.textContent = error)
    buffer += text
    let end
    while ((end = buffer.indexOf("\\n\\n")) >= 0) {       // one SSE event per blank line
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2)
      let type = "message", data = []
      for (const l of block.split("\\n")) {
        if (l.startsWith("event: ")) type = l.slice(7)
        else if (l.startsWith("data: ")) data.push(l.slice(6))
      }
      if (type === "token") out.textContent += data.join("\\n")
      if (type === "done") out.textContent += "  ✓"
      if (type === "stream-error") out.textContent += "  [error: " + data.join("\\n") + "]"
    }
  })
}
function sendNdjson(body) {
  const out = $("answerNdjson"); out.textContent = ""
  let buffer = ""
  post("/chat.ndjson", body, (text, error) => {
    if (error) return (out.textContent = error)
    buffer += text
    let end
    while ((end = buffer.indexOf("\\n")) >= 0) {          // one JSON value per line
      const lineText = buffer.slice(0, end); buffer = buffer.slice(end + 1)
      if (lineText.trim() === "") continue
      const value = JSON.parse(lineText)
      if (value.token) out.textContent += value.token
      if (value.done) out.textContent += "  ✓"
    }
  })
}
$("sendSse").onclick = () => sendSse(JSON.stringify({ prompt: $("prompt").value }))
$("sendNdjson").onclick = () => sendNdjson(JSON.stringify({ prompt: $("prompt").value }))
$("sendBad").onclick = () => { sendSse('{"prompt": 42}'); sendNdjson("this is not JSON") }
</script>
</body>
</html>
`
