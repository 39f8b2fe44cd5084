// The one place to configure the client: where the assistant API is served.
// WeChat only lets a mini-program call HTTPS domains listed as request合法域名 (开发管理 → 服务器域名;
// see wechat/README.md), so this is the public HTTPS origin of `python -m assistant serve`, without a
// trailing slash and without /v1.
module.exports = {
  API_BASE: 'https://policy-assistant.example.com',
  // Optional: stream answers over SSE (wx.request with enableChunked). Off by default: plain requests
  // work on every base library and behind every proxy.
  STREAM_ANSWERS: false,
}
