// Server-Sent Events over wx.request's enableChunked.
//
// onChunkReceived hands us ArrayBuffers cut wherever the network cut them: a chunk can end in the middle
// of a frame, of a line, or of a UTF-8 character (every Chinese character is 3 bytes). So bytes go through
// an incremental UTF-8 decoder that carries an unfinished character over to the next chunk, and the text
// goes through a line parser that carries an unfinished line and an unfinished frame over.
//
// The decoder is written out here because TextDecoder is not available in every WeChat base library.

const REPLACEMENT = 0xfffd

function Utf8Decoder() {
  this.need = 0 // continuation bytes still expected for the current character
  this.codePoint = 0
  this.min = 0 // smallest code point this sequence length may encode (rejects overlong forms)
}

// Decodes `bytes` (Uint8Array); returns the text of every character completed so far.
Utf8Decoder.prototype.write = function (bytes) {
  const out = []
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (this.need > 0) {
      if ((b & 0xc0) === 0x80) {
        this.codePoint = (this.codePoint << 6) | (b & 0x3f)
        if (--this.need === 0) out.push(this._finish())
        continue
      }
      // A character cut short by a new lead byte: U+FFFD for it, then read b afresh.
      this.need = 0
      out.push(REPLACEMENT)
    }
    if (b < 0x80) out.push(b)
    else if (b >= 0xc2 && b <= 0xdf) this._start(1, b & 0x1f, 0x80)
    else if (b >= 0xe0 && b <= 0xef) this._start(2, b & 0x0f, 0x800)
    else if (b >= 0xf0 && b <= 0xf4) this._start(3, b & 0x07, 0x10000)
    else out.push(REPLACEMENT)
  }
  return fromCodePoints(out)
}

// End of stream: an unfinished character can no longer be completed.
Utf8Decoder.prototype.end = function () {
  if (this.need === 0) return ''
  this.need = 0
  return String.fromCharCode(REPLACEMENT)
}

Utf8Decoder.prototype._start = function (need, bits, min) {
  this.need = need
  this.codePoint = bits
  this.min = min
}

Utf8Decoder.prototype._finish = function () {
  const cp = this.codePoint
  const valid = cp >= this.min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)
  return valid ? cp : REPLACEMENT
}

function fromCodePoints(codePoints) {
  let text = ''
  for (let i = 0; i < codePoints.length; i += 4096) {
    text += String.fromCodePoint.apply(null, codePoints.slice(i, i + 4096))
  }
  return text
}

// The event-stream format (WHATWG HTML §9.2): lines end in \r\n, \n or \r; a blank line ends a frame;
// "field: value" lines; ":" starts a comment. Only complete frames are returned.
function SseParser() {
  this.decoder = new Utf8Decoder()
  this.buffer = '' // text not yet split into lines
  this.reset()
}

SseParser.prototype.reset = function () {
  this.event = ''
  this.data = []
  this.id = null
}

// Feeds one chunk (ArrayBuffer or Uint8Array); returns the frames it completed: [{event, data, id}].
SseParser.prototype.push = function (chunk) {
  const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk)
  return this._text(this.decoder.write(bytes))
}

// End of stream: a frame without its closing blank line is dropped, as the standard says.
SseParser.prototype.end = function () {
  let frames = this._text(this.decoder.end())
  // A final lone \r was held back in case \n followed; nothing follows now, so it ends its line.
  if (this.buffer.endsWith('\r')) frames = frames.concat(this._text('\n'))
  this.buffer = ''
  this.reset()
  return frames
}

SseParser.prototype._text = function (text) {
  this.buffer += text
  const frames = []
  for (;;) {
    const cr = this.buffer.indexOf('\r')
    const lf = this.buffer.indexOf('\n')
    if (cr < 0 && lf < 0) break
    const at = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
    // A \r at the very end may be the first half of \r\n: wait for the next chunk to tell.
    if (at === cr && at === this.buffer.length - 1) break
    const width = at === cr && this.buffer[at + 1] === '\n' ? 2 : 1
    const line = this.buffer.slice(0, at)
    this.buffer = this.buffer.slice(at + width)
    const frame = this._line(line)
    if (frame) frames.push(frame)
  }
  return frames
}

SseParser.prototype._line = function (line) {
  if (line === '') {
    if (this.data.length === 0) {
      this.reset()
      return null
    }
    const frame = { event: this.event || 'message', data: this.data.join('\n'), id: this.id }
    this.reset()
    return frame
  }
  if (line[0] === ':') return null // comment (keep-alive)
  const colon = line.indexOf(':')
  const field = colon < 0 ? line : line.slice(0, colon)
  let value = colon < 0 ? '' : line.slice(colon + 1)
  if (value[0] === ' ') value = value.slice(1)
  if (field === 'data') this.data.push(value)
  else if (field === 'event') this.event = value
  else if (field === 'id') this.id = value
  return null
}

module.exports = { Utf8Decoder, SseParser }
