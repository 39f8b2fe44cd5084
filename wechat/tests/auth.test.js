// wx.login → POST /v1/wechat/login → bearer token in storage, renewed when it expires, against the real API
// server configured with the WeChat stub (tests/wechat_stub.py) by tests/test_miniprogram.py.
const { render, until, text, requireEnv, usePage } = require('./helpers')
const auth = require('../miniprogram/utils/auth.js')
const config = require('../miniprogram/config.js')

const QUESTION = '自建电商平台有什么补贴？'
const ctx = usePage('chat')

const path = (r) => r.method + ' ' + r.url.replace(/^https?:\/\/[^/]+/, '')
const trail = () => ctx.runtime.requests.map((r) => path(r) + ' ' + r.statusCode)
const stored = () => ctx.runtime.storage.get(auth.STORAGE_KEY)

async function ask(page, question) {
  const before = page.querySelectorAll('.feedback').length
  page.querySelector('.question').dispatchEvent('input', { detail: { value: question } })
  page.querySelector('.send').dispatchEvent('tap')
  await until(
    () => page.querySelectorAll('.feedback').length > before || text(page.querySelector('.error')),
    'an answer or an error',
  )
}

test('the first question logs in once; the token is stored and sent as a bearer token', async () => {
  const page = render(ctx.pageId)
  await ask(page, QUESTION)
  expect(text(page.querySelector('.error'))).toBe('')
  expect(trail()).toEqual(['POST /v1/wechat/login 200', 'POST /v1/chat 200'])
  const login = ctx.runtime.requests[0]
  expect(login.body).toEqual({ code: 'mini-user' })
  expect(login.header.Authorization).toBeUndefined()
  const { token, expires_in: expiresIn, token_type: type, user_id: userId } = login.response
  expect(type).toBe('bearer')
  expect(stored().token).toBe(token)
  expect(stored().userId).toBe(userId)
  // Renewed a little before the server's expiry, never after it.
  expect(stored().renewAt).toBeLessThanOrEqual(Date.now() + expiresIn * 1000)
  expect(stored().renewAt).toBeGreaterThan(Date.now() + expiresIn * 900 - 5000)
  expect(ctx.runtime.requests[1].header.Authorization).toBe('Bearer ' + token)

  // The follow-up, the vote and a clause reuse it: no second login.
  await ask(page, '那首年交易额要达到多少？')
  page.querySelectorAll('.rate-up')[0].dispatchEvent('tap')
  await until(() => page.querySelector('.thanks'), 'the feedback acknowledgement')
  expect(ctx.runtime.logins).toBe(1)
  const vote = ctx.runtime.requests.find((r) => r.url.endsWith('/v1/feedback'))
  expect(vote.statusCode).toBe(201)
  expect(vote.header.Authorization).toBe('Bearer ' + token)
  // The follow-up continued the session: the server issued it to this token's user.
  expect(ctx.runtime.requests[2].body.session_id).toBe(ctx.runtime.requests[1].response.session_id)
  expect(ctx.runtime.requests[2].statusCode).toBe(200)
})

test('a token the client knows has expired is renewed before the request', async () => {
  const page = render(ctx.pageId)
  await ask(page, QUESTION)
  const first = stored().token
  ctx.runtime.storage.set(auth.STORAGE_KEY, Object.assign({}, stored(), { renewAt: Date.now() - 1 }))
  ctx.runtime.requests = []

  await ask(page, '那首年交易额要达到多少？')
  expect(text(page.querySelector('.error'))).toBe('')
  expect(trail()).toEqual(['POST /v1/wechat/login 200', 'POST /v1/chat 200']) // no 401 first
  expect(ctx.runtime.logins).toBe(2)
  expect(ctx.runtime.requests[1].header.Authorization).toBe('Bearer ' + stored().token)
  expect(stored().renewAt).toBeGreaterThan(Date.now())
  // Same WeChat user, same assistant user: the session goes on.
  expect(ctx.runtime.requests[1].body.session_id).toBeTruthy()
  expect(typeof first).toBe('string')
})

test('a token the server calls expired (401 token_expired) is renewed once and the request retried', async () => {
  const expired = requireEnv('PA_TEST_EXPIRED_TOKEN')
  ctx.runtime.storage.set(auth.STORAGE_KEY, { token: expired, userId: 'x', renewAt: Date.now() + 3600 * 1000 })
  const page = render(ctx.pageId)
  await ask(page, QUESTION)

  expect(text(page.querySelector('.error'))).toBe('')
  expect(trail()).toEqual(['POST /v1/chat 401', 'POST /v1/wechat/login 200', 'POST /v1/chat 200'])
  expect(ctx.runtime.requests[0].response.error.code).toBe('token_expired')
  expect(ctx.runtime.requests[0].header.Authorization).toBe('Bearer ' + expired)
  expect(ctx.runtime.requests[2].header.Authorization).toBe('Bearer ' + stored().token)
  expect(stored().token).not.toBe(expired)
  expect(ctx.runtime.requests[2].body).toEqual({ message: QUESTION }) // the same request, retried
  expect(page.querySelectorAll('.citation').length).toBeGreaterThan(0)
})

test('streaming: a 401 on /v1/chat/stream is renewed once and retried too', async () => {
  config.STREAM_ANSWERS = true
  ctx.runtime.chunkSize = 11
  const expired = requireEnv('PA_TEST_EXPIRED_TOKEN')
  ctx.runtime.storage.set(auth.STORAGE_KEY, { token: expired, userId: 'x', renewAt: Date.now() + 3600 * 1000 })
  const page = render(ctx.pageId)
  await ask(page, QUESTION)
  expect(text(page.querySelector('.error'))).toBe('')
  expect(trail()).toEqual(['POST /v1/chat/stream 401', 'POST /v1/wechat/login 200', 'POST /v1/chat/stream 200'])
  expect(text(page.querySelector('.answer'))).toContain('30万元')
})

test('when renewal fails, the error is shown and nothing loops', async () => {
  const expired = requireEnv('PA_TEST_EXPIRED_TOKEN')
  ctx.runtime.storage.set(auth.STORAGE_KEY, { token: expired, userId: 'x', renewAt: Date.now() + 3600 * 1000 })
  ctx.runtime.loginCodes = ['busy'] // WeChat answers -1 (system busy): the server says 503 wechat_unavailable
  const page = render(ctx.pageId)
  await ask(page, QUESTION)
  expect(trail()).toEqual(['POST /v1/chat 401', 'POST /v1/wechat/login 503'])
  expect(ctx.runtime.requests[1].response.error.code).toBe('wechat_unavailable')
  expect(text(page.querySelector('.error'))).toBe(ctx.runtime.requests[1].response.error.message)
  expect(stored()).toBeUndefined() // the rejected token is gone
  expect(page.querySelectorAll('.answer')).toHaveLength(0)
})

test.each([
  ['highrisk', 403, 'wechat_high_risk_user'],
  ['invalid', 400, 'wechat_invalid_code'],
  ['ratelimit', 429, 'wechat_rate_limited'],
])('a login error (%s) is shown to the user, and the next try logs in', async (code, status, errorCode) => {
  ctx.runtime.loginCodes = [code]
  const page = render(ctx.pageId)
  await ask(page, QUESTION)

  expect(trail()).toEqual(['POST /v1/wechat/login ' + status])
  const error = ctx.runtime.requests[0].response.error
  expect(error.code).toBe(errorCode)
  expect(error.message).toMatch(/[\u4e00-\u9fff]/) // the server's Chinese text …
  expect(text(page.querySelector('.error'))).toBe(error.message) // … is what the user sees
  expect(stored()).toBeUndefined()
  expect(page.instance.data.input).toBe(QUESTION) // kept for the retry

  page.querySelector('.send').dispatchEvent('tap')
  await until(() => page.querySelector('.feedback'), 'the answer after a good login')
  expect(text(page.querySelector('.error'))).toBe('')
  expect(trail().slice(1)).toEqual(['POST /v1/wechat/login 200', 'POST /v1/chat 200'])
})
