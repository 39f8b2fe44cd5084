// Chat page. Written with Component() rather than Page() (WeChat supports both for pages) so that
// miniprogram-simulate can render it in tests exactly as shipped.
const api = require('../../utils/api.js')
const config = require('../../config.js')
const { answerBlocks } = require('../../utils/format.js')

let nextId = 1

Component({
  data: {
    input: '',
    messages: [], // {id, role: 'user'|'assistant', text, blocks, citations, notices, turn, rating}
    sessionId: null,
    turns: 0, // answered turns in this session: the next answer's turn index for /v1/feedback
    busy: false,
    error: '',
    clause: null, // the clause opened from a citation chip
    clauseLoading: false,
  },

  methods: {
    onInput(e) {
      this.setData({ input: e.detail.value })
    },

    send() {
      const message = this.data.input.trim()
      if (!message || this.data.busy) return Promise.resolve()
      const user = { id: nextId++, role: 'user', text: message }
      const reply = { id: nextId++, role: 'assistant', text: '', blocks: [], citations: [], notices: [], pending: true }
      const at = this.data.messages.length + 1 // index of `reply` in messages
      this.setData({ messages: this.data.messages.concat([user, reply]), input: '', busy: true, error: '' })

      let streamed = ''
      const request = config.STREAM_ANSWERS
        ? api.chatStream(message, this.data.sessionId, (piece) => {
            streamed += piece
            this.setData({ ['messages[' + at + '].blocks']: answerBlocks(streamed) })
          })
        : api.chat(message, this.data.sessionId)

      return request.then(
        (res) => {
          this.setData({
            ['messages[' + at + ']']: {
              id: reply.id,
              role: 'assistant',
              text: res.answer,
              blocks: answerBlocks(res.answer),
              citations: res.citations || [],
              notices: res.notices || [],
              turn: this.data.turns,
              sessionId: res.session_id,
              rating: '',
              pending: false,
            },
            sessionId: res.session_id,
            turns: this.data.turns + 1,
            busy: false,
          })
        },
        (err) => {
          // The question stays on screen with the reason it got no answer; the box gets it back to retry.
          this.setData({
            messages: this.data.messages.slice(0, at),
            input: message,
            busy: false,
            error: err.message || String(err),
          })
        },
      )
    },

    openClause(e) {
      const id = e.currentTarget.dataset.id
      const loading = { clause_id: id, title: '', text: '', counterparts: [] }
      this.setData({ clause: loading, clauseLoading: true, error: '' })
      return api.clause(id).then(
        (res) => {
          const clause = Object.assign({ counterparts: res.counterparts }, res.clause)
          this.setData({ clause, clauseLoading: false })
        },
        (err) => this.setData({ clause: null, clauseLoading: false, error: err.message }),
      )
    },

    closeClause() {
      this.setData({ clause: null })
    },

    rate(e) {
      const index = e.currentTarget.dataset.index
      const rating = e.currentTarget.dataset.rating
      const msg = this.data.messages[index]
      return api.feedback(msg.sessionId, msg.turn, rating).then(
        (ack) => this.setData({ ['messages[' + index + '].rating']: ack.rating, error: '' }),
        (err) => this.setData({ error: err.message }),
      )
    },

    newConversation() {
      // The next question is sent without session_id, so the server starts (and issues) a new session.
      this.setData({ messages: [], sessionId: null, turns: 0, input: '', error: '', clause: null })
    },
  },
})
