// Who the user is, as far as the assistant API knows: wx.login gives a one-time code, POST /v1/wechat/login
// exchanges it (server side, with the app secret) for our own bearer token. The token is kept in storage so
// a restart of the mini-program does not log in again; it is renewed shortly before it expires, and
// api.js renews it once more when the server still answers 401 (clocks differ, secrets rotate).
// Nothing of WeChat's session (session_key, openid) ever reaches the client: the token is all we hold.

const STORAGE_KEY = 'pa_auth'
const RENEW_MARGIN_MS = 60 * 1000

let pending = null // the login in flight: concurrent requests wait for the same one

function stored() {
  try {
    return wx.getStorageSync(STORAGE_KEY) || null
  } catch (e) {
    return null
  }
}

function clearToken() {
  try {
    wx.removeStorageSync(STORAGE_KEY)
  } catch (e) {
    // storage unavailable: nothing to clear
  }
}

// Resolves to the bearer token, logging in when there is none or it is about to expire. Rejects with an
// ApiError the page can show (its message is the server's Chinese text, e.g. for wechat_high_risk_user).
function getToken() {
  const entry = stored()
  if (entry && entry.token && Date.now() < entry.renewAt) return Promise.resolve(entry.token)
  return login()
}

// A fresh login, whatever is stored (used after a 401).
function login() {
  if (!pending) {
    const done = () => {
      pending = null
    }
    pending = exchange().then(
      (token) => {
        done()
        return token
      },
      (err) => {
        done()
        throw err
      },
    )
  }
  return pending
}

function exchange() {
  // Required here, not at the top: api.js requires this module for every authenticated call.
  const api = require('./api.js')
  return wxLogin()
    .then((code) => api.send('POST', '/v1/wechat/login', { code }))
    .then((res) => {
      if (res.statusCode !== 200 || !res.data || !res.data.token) throw api.errorFrom(res)
      const lifetime = Number(res.data.expires_in) * 1000
      const margin = Math.min(RENEW_MARGIN_MS, lifetime / 10)
      const entry = { token: res.data.token, userId: res.data.user_id, renewAt: Date.now() + lifetime - margin }
      wx.setStorageSync(STORAGE_KEY, entry)
      return entry.token
    })
}

function wxLogin() {
  const api = require('./api.js')
  const failed = () => new api.ApiError(0, 'wx_login_failed', '微信登录失败，请检查网络后重试。')
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(failed())),
      fail: () => reject(failed()),
    })
  })
}

module.exports = { getToken, login, clearToken, STORAGE_KEY }
