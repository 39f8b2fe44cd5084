// Page tests render in jsdom (miniprogram-simulate needs a DOM); the SSE parser tests need none but run
// in the same invocation. Page tests talk to a real API server: see tests/helpers.js.
module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  testTimeout: 30000,
  // One worker: the machine is shared, and the page tests share one API server.
  maxWorkers: 1,
}
