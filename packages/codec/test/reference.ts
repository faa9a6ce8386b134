/**
 * A slow, literal transcription of the WHATWG HTML "server-sent events" parsing model (§9.2.5
 * "Parsing an event stream" and §9.2.6 "Interpreting an event stream"), over the whole input at
 * once. No cleverness, no chunking, no limits: it is the oracle `Sse.decode` is checked against.
 *
 * Besides the dispatched events it records the reconnection-time changes (`retry`) and the
 * comment lines (which the spec ignores; the codec surfaces them with one leading space removed),
 * in the order they occur.
 */

export type RefMessage =
  | { readonly _tag: "SseEvent"; readonly type: string; readonly data: string; readonly lastEventId: string }
  | { readonly _tag: "Retry"; readonly millis: number }
  | { readonly _tag: "Comment"; readonly text: string }
  | { readonly _tag: "LastEventId"; readonly id: string }

export interface RefOptions {
  /**
   * Also record, as `LastEventId`, a change of the last event ID string made by a dispatch that
   * produced no event (the codec's `include: ["id"]`): the id differs from the one carried by the
   * previous event or previous such record.
   */
  readonly idChanges?: boolean
}

const LF = "\n"
const CR = "\r"

export const referenceParse = (bytes: Uint8Array, options?: RefOptions): Array<RefMessage> => {
  // "The stream must then be parsed by reading everything line by line ... This must be done
  // using the UTF-8 decode algorithm" — UTF-8 decode strips one leading BOM and replaces invalid
  // sequences with U+FFFD (the Encoding standard's decoder with error mode "replacement").
  const stream = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(bytes)

  const out: Array<RefMessage> = []
  // "When a stream is parsed, a data buffer, an event type buffer, and a last event ID buffer
  // must be associated with it. They must be initialized to the empty string."
  let dataBuffer = ""
  let eventTypeBuffer = ""
  let lastEventIdBuffer = ""
  // The EventSource's last event ID string.
  let lastEventIdString = ""
  // The id last seen by the consumer (for `idChanges`).
  let reportedId = ""

  const isAsciiDigits = (s: string) => {
    for (const c of s) if (c < "0" || c > "9") return false
    return true
  }

  const processField = (field: string, value: string) => {
    if (field === "event") {
      // "Set the event type buffer to the field value."
      eventTypeBuffer = value
    } else if (field === "data") {
      // "Append the field value to the data buffer, then append a single U+000A LINE FEED (LF)
      // character to the data buffer."
      dataBuffer += value
      dataBuffer += LF
    } else if (field === "id") {
      // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the
      // field value. Otherwise, ignore the field."
      if (!value.includes("\u0000")) lastEventIdBuffer = value
    } else if (field === "retry") {
      // "If the field value consists of only ASCII digits, then interpret the field value as an
      // integer in base ten, and set the event stream's reconnection time to that integer.
      // Otherwise, ignore the field." (An empty value is ignored: DESIGN §3.4.)
      if (value.length > 0 && isAsciiDigits(value)) out.push({ _tag: "Retry", millis: Number(BigInt(value)) })
    }
    // "Otherwise: The field is ignored."
  }

  const dispatch = () => {
    // 1. "Set the last event ID string of the event source to the value of the last event ID
    //    buffer. The buffer does not get reset..."
    lastEventIdString = lastEventIdBuffer
    // 2. "If the data buffer is an empty string, set the data buffer and the event type buffer to
    //    the empty string and return."
    if (dataBuffer === "") {
      if (options?.idChanges === true && lastEventIdString !== reportedId) {
        reportedId = lastEventIdString
        out.push({ _tag: "LastEventId", id: lastEventIdString })
      }
      dataBuffer = ""
      eventTypeBuffer = ""
      return
    }
    // 3. "If the data buffer's last character is a U+000A LINE FEED (LF) character, then remove
    //    the last character from the data buffer."
    if (dataBuffer.endsWith(LF)) dataBuffer = dataBuffer.slice(0, -1)
    // 4–6. "Initialize event's type attribute to "message", its data attribute to data, ... its
    //    lastEventId attribute to the last event ID string of the event source." "If the event
    //    type buffer has a value other than the empty string, change the type of the newly
    //    created event to equal the value of the event type buffer."
    let type = "message"
    if (eventTypeBuffer !== "") type = eventTypeBuffer
    out.push({ _tag: "SseEvent", type, data: dataBuffer, lastEventId: lastEventIdString })
    reportedId = lastEventIdString
    // 7. "Set the data buffer and the event type buffer to the empty string."
    dataBuffer = ""
    eventTypeBuffer = ""
  }

  const processLine = (line: string) => {
    if (line === "") {
      // "If the line is empty (a blank line): Dispatch the event."
      dispatch()
    } else if (line.startsWith(":")) {
      // "If the line starts with a U+003A COLON character (:): Ignore the line."
      out.push({ _tag: "Comment", text: line.slice(1).startsWith(" ") ? line.slice(2) : line.slice(1) })
    } else if (line.includes(":")) {
      // "Collect the characters on the line before the first U+003A COLON character (:), and let
      // field be that string. Collect the characters on the line after the first U+003A COLON
      // character (:), and let value be that string. If value starts with a U+0020 SPACE
      // character, remove it from value."
      const colon = line.indexOf(":")
      const field = line.slice(0, colon)
      let value = line.slice(colon + 1)
      if (value.startsWith(" ")) value = value.slice(1)
      processField(field, value)
    } else {
      // "Otherwise, the string is not empty but does not contain a U+003A COLON character (:):
      // Process the field ... using the whole line as the field name, and the empty string as
      // the field value."
      processField(line, "")
    }
  }

  // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF)
  // character pair, a single U+000A LINE FEED (LF) character not preceded by a U+000D CARRIAGE
  // RETURN (CR) character, or a single U+000D CARRIAGE RETURN (CR) character not followed by a
  // U+000A LINE FEED (LF) character being the ways in which a line can end."
  let line = ""
  for (let i = 0; i < stream.length; i++) {
    const c = stream[i]!
    if (c === CR) {
      processLine(line)
      line = ""
      if (stream[i + 1] === LF) i++
    } else if (c === LF) {
      processLine(line)
      line = ""
    } else {
      line += c
    }
  }
  // "Once the end of the file is reached, any pending data must be discarded. (If the file ends
  // in the middle of an event, before the final empty line, the incomplete event is not
  // dispatched.)" — and the unterminated `line` is not a line at all.
  return out
}
