/**
 * @jest-environment node
 */
// Unit tests of the SSE chunk parser: no server, no DOM (`npx jest tests/sse.test.js` runs them alone).
const { SseParser, Utf8Decoder } = require('../miniprogram/utils/sse.js')

const bytes = (text) => Uint8Array.from(Buffer.from(text, 'utf8'))
const buffer = (u8) => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) // as onChunkReceived gives

// Feeds `pieces` (Uint8Arrays) one by one; returns the frames each push returned.
function feed(pieces) {
  const parser = new SseParser()
  return pieces.map((piece) => parser.push(buffer(piece)))
}

test('a multi-byte character split across two chunks is decoded once, whole', () => {
  const frame = bytes('event: delta\ndata: {"text":"补贴"}\n\n')
  const cut = frame.indexOf(0xe8) + 1 // after the first of the three bytes of 补 (e8 a1 a5)
  expect(frame[cut - 1]).toBe(0xe8)
  const [first, second] = feed([frame.subarray(0, cut), frame.subarray(cut)])
  expect(first).toEqual([]) // nothing complete yet, and no U+FFFD for the half character
  expect(second).toEqual([{ event: 'delta', data: '{"text":"补贴"}', id: null }])
  expect(JSON.parse(second[0].data).text).toBe('补贴')
})

test('each cut inside a 3-byte and a 4-byte character decodes the same text', () => {
  const text = '奖励𠀋元'
  const all = bytes(text)
  for (let a = 1; a < all.length; a++) {
    for (let b = a; b < all.length; b++) {
      const decoder = new Utf8Decoder()
      const out = decoder.write(all.subarray(0, a)) + decoder.write(all.subarray(a, b)) + decoder.write(all.subarray(b))
      expect(out + decoder.end()).toBe(text)
    }
  }
})

test('a frame split across three chunks is returned once, after the last one', () => {
  const wire = 'event: done\ndata: {"answer":"新设立的区域总部给予100万元","session_id":"abc"}\n\n'
  const all = bytes(wire)
  // Cut 1: inside the "event" field name. Cut 2: inside 区 (the middle of a 3-byte character).
  const cut1 = 3
  const cut2 = Buffer.from(wire).indexOf(Buffer.from('区')) + 1
  expect(all.subarray(cut2 - 1, cut2 + 2)).toEqual(bytes('区'))
  const results = feed([all.subarray(0, cut1), all.subarray(cut1, cut2), all.subarray(cut2)])
  expect(results[0]).toEqual([])
  expect(results[1]).toEqual([])
  expect(results[2]).toHaveLength(1)
  expect(results[2][0].event).toBe('done')
  expect(JSON.parse(results[2][0].data)).toEqual({ answer: '新设立的区域总部给予100万元', session_id: 'abc' })
})

test('byte-by-byte delivery yields the same frames as one chunk', () => {
  const wire =
    'event: delta\ndata: {"text":"第一段，"}\n\n' +
    ': keep-alive comment\n\n' +
    'event: delta\r\ndata: {"text":"第二段。"}\r\n\r\n' +
    'event: done\rdata: {"answer":"第一段，第二段。"}\r\r'
  const one = new SseParser()
  const whole = one.push(buffer(bytes(wire)))
  expect(whole).toHaveLength(2) // the last frame ends in a lone CR: it may yet become CRLF
  whole.push(...one.end()) // the stream ended: it was a line end after all
  const parser = new SseParser()
  const pieces = []
  for (const b of bytes(wire)) pieces.push(...parser.push(Uint8Array.of(b)))
  pieces.push(...parser.end())
  expect(pieces).toEqual(whole)
  expect(whole.map((f) => [f.event, JSON.parse(f.data)])).toEqual([
    ['delta', { text: '第一段，' }],
    ['delta', { text: '第二段。' }],
    ['done', { answer: '第一段，第二段。' }],
  ])
})

test('a CR at the end of a chunk waits for the next one (it may be half of CRLF)', () => {
  const parser = new SseParser()
  expect(parser.push(buffer(bytes('data: a\r\n\r')))).toEqual([])
  // Had the lone \r been taken as a line end, the \n would make an extra blank line here.
  expect(parser.push(buffer(bytes('\ndata: b\r\n\r\n')))).toEqual([
    { event: 'message', data: 'a', id: null },
    { event: 'message', data: 'b', id: null },
  ])
})

test('multi-line data, field without a space, id, and an unfinished frame at the end of the stream', () => {
  const parser = new SseParser()
  const frames = parser.push(buffer(bytes('id: 7\nevent:error\ndata: line one\ndata:line two\n\ndata: cut off')))
  expect(frames).toEqual([{ event: 'error', data: 'line one\nline two', id: '7' }])
  expect(parser.end()).toEqual([]) // no closing blank line: dropped, as the standard says
})

test('invalid and truncated UTF-8 become U+FFFD instead of corrupting what follows', () => {
  const decoder = new Utf8Decoder()
  // 0xff never appears in UTF-8; e8 a1 is 补 cut short by an ASCII byte; c0 80 is an overlong NUL.
  const out = decoder.write(Uint8Array.of(0x61, 0xff, 0x62, 0xe8, 0xa1, 0x63, 0xc0, 0x80, 0x64))
  expect(out).toBe('a\ufffdb\ufffdc\ufffd\ufffdd')
  expect(decoder.write(Uint8Array.of(0xe8, 0xa1))).toBe('')
  expect(decoder.end()).toBe('\ufffd') // the stream ended inside a character
})
