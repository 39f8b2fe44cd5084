// The optional streaming mode (config.STREAM_ANSWERS): wx.request with enableChunked against the real
// /v1/chat/stream, with the body re-cut into 5-byte chunks so Chinese characters and frames are split.
const { setup, render, until, text, inside, usePage } = require('./helpers')
const config = require('../miniprogram/config.js')
const api = require('../miniprogram/utils/api.js')

const QUESTION = '自建电商平台有什么补贴？'
const ctx = usePage('chat')

async function askOnPage(question) {
  const page = render(ctx.pageId)
  page.querySelector('.question').dispatchEvent('input', { detail: { value: question } })
  page.querySelector('.send').dispatchEvent('tap')
  // The 👍/👎 row appears once the answer is complete (while streaming, text shows without it).
  await until(() => page.querySelector('.feedback') || text(page.querySelector('.error')), 'the answer')
  return page
}

test.each([
  ['after the last chunk', false],
  ['before the first chunk', true],
])('a streamed answer renders like the plain one (success %s)', async (_, successFirst) => {
  const plain = await askOnPage(QUESTION)
  const plainText = text(plain.querySelector('.answer'))
  expect(plainText).toContain('30万元')

  config.STREAM_ANSWERS = true
  ctx.runtime = setup()
  ctx.runtime.chunkSize = 5
  ctx.runtime.successFirst = successFirst
  const streamed = await askOnPage(QUESTION)
  const answer = streamed.querySelector('.answer')
  expect(text(streamed.querySelector('.error'))).toBe('')
  const asked = ctx.runtime.requests.filter((r) => r.url.includes('/v1/chat'))
  expect(asked.map((r) => r.url.replace(/^https?:\/\/[^/]+/, ''))).toEqual(['/v1/chat/stream'])
  expect(text(answer)).toBe(plainText)
  expect(text(answer)).not.toContain('\ufffd')
  expect(inside(answer, 'citation').map(text)).toContain('【附件-11】支持企业自建电子商务平台')
  expect(streamed.instance.data.sessionId).toMatch(/^[A-Za-z0-9_-]+$/)
})

test('deltas arrive in order and add up to the final answer', async () => {
  ctx.runtime.chunkSize = 7
  const pieces = []
  const res = await api.chatStream(QUESTION, null, (piece) => pieces.push(piece))
  expect(pieces.length).toBeGreaterThan(0)
  expect(pieces.join('')).toBe(res.answer)
  expect(res.notices.some((n) => n.startsWith('时效提示'))).toBe(true)
})

test('a streamed error (unknown session) is shown with the server message', async () => {
  config.STREAM_ANSWERS = true
  await expect(api.chatStream(QUESTION, 'no-such-session', () => {})).rejects.toMatchObject({
    status: 404,
    code: 'session_not_found',
    message: '会话不存在或不属于当前用户。',
  })
})
