// Shared by the page tests: load a page the way miniprogram-simulate loads a component, point the client at
// the real API server under test, and wait for what the page renders.
const path = require('path')
const simulate = require('miniprogram-simulate')
const wxRuntime = require('./wx-runtime')

const ROOT = path.resolve(__dirname, '..', 'miniprogram')

// The page tests need a running assistant API server; tests/test_miniprogram.py (pytest) starts one, with
// the WeChat stub, and passes its URL (and an expired token it signed) in these variables.
function requireEnv(name) {
  const value = process.env[name]
  if (!value) {
    throw new Error(
      name + ' is not set: the page tests talk to a real assistant API server. Run them through pytest: ' +
        '`python -m pytest tests/test_miniprogram.py` (it starts the server and the WeChat stub).',
    )
  }
  return value
}

const apiBase = () => requireEnv('PA_TEST_API_BASE')

// Fresh runtime, storage and config for each test; returns the shim's record of requests and logins.
function setup(base = apiBase()) {
  const runtime = wxRuntime.install()
  wxRuntime.reset()
  require('../miniprogram/config.js').API_BASE = base
  return runtime
}

// Templates go through WeChat's own WXML compiler (wcc, shipped as x86-64 Linux/macOS/Windows binaries inside
// the miniprogram-compiler npm package), not the simplified JS one, so the tests see what WeChat would render.
function loadPage(name) {
  return simulate.load(path.join(ROOT, 'pages', name, 'index'), { rootPath: ROOT, compiler: 'official' })
}

function render(pageId) {
  const page = simulate.render(pageId)
  page.attach(document.createElement('parent-wrapper'))
  return page
}

// Polls until check() returns something truthy (the page updates after a real HTTP round trip).
async function until(check, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what)
    await simulate.sleep(20)
  }
}

// Rendered text of a node (a j-component wrapper or a DOM element), whitespace collapsed.
const text = (node) => (node ? (node.dom || node).textContent.replace(/\s+/g, ' ').trim() : '')

// j-component's querySelector works from the page root only; inside one rendered element, query its DOM.
// miniprogram-simulate prefixes every class with the component's tag name ('main--').
const inside = (node, cls) => Array.from((node.dom || node).querySelectorAll('.main--' + cls))

// The lifecycle every page test shares: the page compiled once, a fresh WeChat runtime (storage, request log)
// before each test, and streaming switched back off after each. Returns live `pageId` and `runtime`.
function usePage(name) {
  const state = { pageId: null, runtime: null }
  beforeAll(() => {
    state.runtime = setup()
    state.pageId = loadPage(name)
  })
  beforeEach(() => {
    state.runtime = setup()
  })
  afterEach(() => {
    require('../miniprogram/config.js').STREAM_ANSWERS = false
  })
  return state
}

module.exports = { ROOT, apiBase, requireEnv, setup, loadPage, render, until, text, inside, simulate, usePage }
