// The app itself holds no state: the token lives in storage (utils/auth.js), each page keeps its own.
const auth = require('./utils/auth.js')

App({
  onLaunch() {
    // Log in early so the first question does not wait for it; a failure here is retried (and shown)
    // by the first request that needs the token.
    auth.getToken().catch(() => {})
  },
})
