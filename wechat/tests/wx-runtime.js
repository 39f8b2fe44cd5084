// A stand-in for the WeChat runtime (not for our API) in jest: miniprogram-simulate renders pages but its
// wx.request answers every call with an empty 200 after 100 ms. Here wx.request makes a real HTTP request
// (node's http) to the real assistant API server the pytest harness started; wx.login returns a code that
// the WeChat stub accepts (or a special one a test chose); storage is an in-memory map.
//
// Real login codes are single-use and differ on every wx.login, while the openid behind them stays the
// same. The stub derives the openid from the code (openid oStub_<code>), so "the same WeChat user logging
// in again" is the same code here: `runtime.user`.
//
// Every request is recorded in `runtime.requests` (with the status and JSON answer), so tests can check what
// went over the wire.

const http = require('http')

const runtime = {
  requests: [], // {method, url, header, body, statusCode, response}
  logins: 0, // wx.login calls
  user: 'mini-user', // the code wx.login returns: the stub turns it into openid oStub_mini-user
  loginCodes: [], // special codes to hand out first ("invalid", "highrisk", … see tests/wechat_stub.py)
  chunkSize: 0, // >0: re-cut streamed bodies into pieces of this many bytes (as a slow network would)
  successFirst: false, // enableChunked: call `success` before the chunks instead of after
  storage: new Map(),
}

function reset() {
  runtime.requests = []
  runtime.logins = 0
  runtime.user = 'mini-user'
  runtime.loginCodes = []
  runtime.chunkSize = 0
  runtime.successFirst = false
  runtime.storage.clear()
}

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
}

function query(data) {
  return Object.keys(data)
    .map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(data[k]))
    .join('&')
}

// wx.request as documented: data is JSON-encoded for non-GET requests, a query string for GET; the answer is
// JSON.parse'd when dataType is json (the default) and it parses; responseType 'arraybuffer' gives bytes.
function request(options) {
  const method = (options.method || 'GET').toUpperCase()
  const header = Object.assign({}, options.header || {})
  let url = options.url
  let body = null
  if (options.data !== undefined && options.data !== null) {
    if (method === 'GET') url += (url.includes('?') ? '&' : '?') + query(options.data)
    else body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data)
  }
  const record = { method, url, header, body: body && JSON.parse(body), statusCode: null, response: null }
  runtime.requests.push(record)
  const chunkListeners = []
  const task = {
    onChunkReceived: (fn) => chunkListeners.push(fn),
    offChunkReceived: () => {},
    onHeadersReceived: () => {},
    offHeadersReceived: () => {},
    abort: () => req.destroy(new Error('abort')),
  }

  const req = http.request(url, { method, headers: header, timeout: options.timeout || 60000 }, (res) => {
    record.statusCode = res.statusCode
    const base = { statusCode: res.statusCode, header: res.headers, cookies: [], errMsg: 'request:ok' }
    const parts = []
    const deliver = (buf) => {
      const size = runtime.chunkSize > 0 ? runtime.chunkSize : buf.length
      for (let i = 0; i < buf.length; i += size) {
        const piece = toArrayBuffer(buf.subarray(i, i + size))
        chunkListeners.forEach((fn) => fn({ data: piece }))
      }
    }
    if (options.enableChunked && runtime.successFirst) {
      call(options, 'success', Object.assign({ data: new ArrayBuffer(0) }, base))
    }
    res.on('data', (buf) => (options.enableChunked ? deliver(buf) : parts.push(buf)))
    res.on('end', () => {
      if (options.enableChunked) {
        if (!runtime.successFirst) call(options, 'success', Object.assign({ data: new ArrayBuffer(0) }, base))
        return
      }
      const all = Buffer.concat(parts)
      try {
        record.response = JSON.parse(all.toString('utf8'))
      } catch (e) {
        // not JSON
      }
      let data
      if (options.responseType === 'arraybuffer') data = toArrayBuffer(all)
      else {
        data = all.toString('utf8')
        if ((options.dataType || 'json') === 'json') {
          try {
            data = JSON.parse(data)
          } catch (e) {
            // left as text, as WeChat does
          }
        }
      }
      call(options, 'success', Object.assign({ data }, base))
    })
  })
  req.on('error', (err) => call(options, 'fail', { errMsg: 'request:fail ' + err.message }))
  req.on('timeout', () => req.destroy(new Error('timeout')))
  if (body !== null) req.write(body)
  req.end()
  return task
}

function call(options, which, res) {
  if (typeof options[which] === 'function') options[which](res)
  if (typeof options.complete === 'function') options.complete(res)
}

function login(options) {
  runtime.logins++
  const code = runtime.loginCodes.length ? runtime.loginCodes.shift() : runtime.user
  setTimeout(() => call(options, 'success', { code, errMsg: 'login:ok' }), 0)
}

const clone = (value) => (value === undefined ? '' : JSON.parse(JSON.stringify(value)))

// Installs the runtime over miniprogram-simulate's mock `wx` (require miniprogram-simulate first).
function install() {
  Object.assign(global.wx, {
    request,
    login,
    // WeChat storage keeps JSON-serialisable values and answers '' for a missing key.
    getStorageSync: (key) => (runtime.storage.has(key) ? clone(runtime.storage.get(key)) : ''),
    setStorageSync: (key, value) => runtime.storage.set(key, clone(value)),
    removeStorageSync: (key) => runtime.storage.delete(key),
    clearStorageSync: () => runtime.storage.clear(),
  })
  return runtime
}

module.exports = { install, reset, runtime }
