// The assistant's HTTP API (see /docs on the server). Every function returns a Promise; failures reject with
// an ApiError whose message is the server's own Chinese text, ready to show.

const config = require('../config.js')
const auth = require('./auth.js')
const { SseParser, Utf8Decoder } = require('./sse.js')

function ApiError(status, code, message, field) {
  this.name = 'ApiError'
  this.status = status
  this.code = code
  this.message = message
  this.field = field || null // the request field a validation error is about
}
ApiError.prototype = Object.create(Error.prototype)
ApiError.prototype.constructor = ApiError

// The server answers every error as {"error": {"code", "message", ...}}.
function errorFrom(res) {
  const body = res.data && res.data.error
  if (body && body.message) return new ApiError(res.statusCode, body.code, body.message, body.field)
  const status = res.statusCode
  return new ApiError(status, 'http_' + status, '服务暂时不可用（HTTP ' + status + '），请稍后重试。')
}

function url(path) {
  return config.API_BASE + path // read at call time: one config object, one base URL
}

// wx.request as a Promise; resolves with any HTTP status, rejects only when no answer arrived.
function send(method, path, data, header) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: url(path),
      method,
      data,
      header: Object.assign({ 'Content-Type': 'application/json' }, header || {}),
      timeout: 60000,
      success: resolve,
      fail: (err) => reject(networkError(err)),
    })
  })
}

function networkError(err) {
  const detail = err && err.errMsg ? '（' + err.errMsg + '）' : ''
  return new ApiError(0, 'network_error', '网络连接失败，请检查网络后重试。' + detail)
}

function bearer(token) {
  return { Authorization: 'Bearer ' + token }
}

// A call that needs the user's token. A 401 means the server no longer accepts it (expired, or signed
// with a rotated secret): log in again and retry exactly once, so a broken login cannot loop.
function authed(method, path, data) {
  return auth
    .getToken()
    .then((token) => send(method, path, data, bearer(token)))
    .then((res) => {
      if (res.statusCode !== 401) return res
      auth.clearToken()
      return auth.login().then((token) => send(method, path, data, bearer(token)))
    })
    .then(ok)
}

function ok(res) {
  if (res.statusCode >= 200 && res.statusCode < 300) return res.data
  throw errorFrom(res)
}

function chat(message, sessionId) {
  const body = sessionId ? { message, session_id: sessionId } : { message }
  return authed('POST', '/v1/chat', body)
}

// The same answer over SSE: onDelta(text) for each piece, resolves with the final ChatResponse (the `done`
// frame). The server reports errors as `event: error` frames (with the HTTP status of the JSON API when the
// stream has not started); the auth layer or a proxy may still answer plain JSON, so that is read too.
// WeChat does not promise whether `success` (which carries the status) comes before or after the last
// chunk, so the outcome is settled by whichever of the two arrives last.
const STREAM_TAIL_MS = 5000

function chatStream(message, sessionId, onDelta) {
  const body = sessionId ? { message, session_id: sessionId } : { message }
  const once = (token) =>
    new Promise((resolve, reject) => {
      const parser = new SseParser()
      const raw = new Utf8Decoder() // the body as text, for a plain-JSON error answer
      let text = ''
      let status = null
      let result = null
      let failure = null
      let settled = false
      let timer = null
      let chunks = 0
      const finish = (outcome, error) => {
        if (settled) return
        settled = true
        if (timer) clearTimeout(timer)
        if (error) reject(error)
        else resolve(outcome)
      }
      const settle = () => {
        if (result) return finish({ result })
        if (status === null) return // wait for `success` to tell the status
        if (!failure && status !== 200) failure = parseJson(text)
        if (status === 401) return finish({ unauthorized: true, res: { statusCode: 401, data: failure } })
        // An error frame after a 200 means the answer broke off mid-stream: a server error.
        if (failure) return finish({ res: { statusCode: status === 200 ? 500 : status, data: failure } })
        if (status !== 200) return finish({ res: { statusCode: status, data: null } })
        // 200 and no `done` yet: the last chunks may still be on their way.
        if (!timer) timer = setTimeout(() => finish(null, incomplete()), STREAM_TAIL_MS)
      }
      const handle = (frames) =>
        frames.forEach((frame) => {
          let data = null
          try {
            data = JSON.parse(frame.data)
          } catch (e) {
            return // not ours (a proxy's keep-alive or the like)
          }
          if (frame.event === 'delta' && !settled) onDelta(data.text)
          else if (frame.event === 'done') result = data
          else if (frame.event === 'error') failure = data
        })
      const task = wx.request({
        url: url('/v1/chat/stream'),
        method: 'POST',
        data: body,
        header: Object.assign({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }, bearer(token)),
        enableChunked: true,
        responseType: 'arraybuffer',
        timeout: 60000,
        success: (res) => {
          status = res.statusCode
          // Where no chunk event fired (an old base library), the whole body is here instead.
          if (!chunks && res.data && res.data.byteLength) receive(res.data)
          settle()
        },
        fail: (err) => finish(null, networkError(err)),
      })
      const receive = (buffer) => {
        const bytes = new Uint8Array(buffer)
        if (text.length < 4096) text += raw.write(bytes)
        handle(parser.push(bytes))
      }
      task.onChunkReceived((res) => {
        chunks++
        receive(res.data)
        if (result || failure) settle()
      })
    })
  const answerOf = (outcome) => {
    if (outcome.result) return outcome.result
    throw errorFrom(outcome.res)
  }
  return auth
    .getToken()
    .then(once)
    .then((outcome) => {
      if (!outcome.unauthorized) return answerOf(outcome)
      auth.clearToken() // as in authed(): one fresh login, one retry
      return auth.login().then(once).then(answerOf)
    })
}

function incomplete() {
  return new ApiError(0, 'stream_incomplete', '回答未完整接收，请重试。')
}

function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch (e) {
    return null
  }
}

// Clause text and the calculator hold nothing of the user, but carry the token anyway: a server that requires
// API keys for server-to-server calls accepts the WeChat token on these reads too.
function clause(clauseId) {
  return authed('GET', '/v1/clauses/' + encodeURIComponent(clauseId))
}

function feedback(sessionId, turn, rating) {
  return authed('POST', '/v1/feedback', { session_id: sessionId, turn, rating })
}

function calculate(profile) {
  return authed('POST', '/v1/calculate', profile)
}

module.exports = { ApiError, send, errorFrom, chat, chatStream, clause, feedback, calculate }
