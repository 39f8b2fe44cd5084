// The chat page against the real assistant API server (no mock of our API; see wx-runtime.js).
const { render, until, text, inside, usePage } = require('./helpers')

const ctx = usePage('chat')

async function ask(page, question) {
  const before = page.querySelectorAll('.answer').length
  page.querySelector('.question').dispatchEvent('input', { detail: { value: question } })
  page.querySelector('.send').dispatchEvent('tap')
  // The 👍/👎 row appears once an answer is complete.
  await until(() => page.querySelectorAll('.feedback').length > before, 'the answer to ' + question)
  const answers = page.querySelectorAll('.answer')
  return answers[answers.length - 1]
}

const chatRequests = () => ctx.runtime.requests.filter((r) => r.url.endsWith('/v1/chat'))

test('a question gets an answer with citation chips and the validity notice', async () => {
  const page = render(ctx.pageId)
  expect(text(page.querySelector('.hint'))).toContain('自建电商平台有什么补贴')

  const answer = await ask(page, '自建电商平台有什么补贴？')

  expect(text(page.querySelector('.error'))).toBe('')
  const shown = text(answer)
  // The answer's own words, with the 30万元/50万元 tiers of the self-built platform clause.
  expect(shown).toContain('自建电子商务平台')
  expect(shown).toMatch(/30万元.*50万元/)
  // Inline 【…】 references became chips, and the citation list names clause and title.
  const inline = inside(answer, 'inline-cite').map(text)
  expect(inline).toContain('附件-11')
  const chips = inside(answer, 'citation').map(text)
  expect(chips).toContain('【附件-11】支持企业自建电子商务平台')
  expect(chips).toContain('【三(四)】支持企业自建电子商务平台')
  // The markdown markers are gone: bold and bullets are rendered, not printed.
  expect(shown).not.toContain('**')
  expect(shown).not.toContain('【附件-11】【') // no raw bracket pairs left in the text
  // The validity notice is shown with the answer.
  const notices = inside(answer, 'notice').map(text)
  expect(notices.some((n) => n.startsWith('时效提示') && n.includes('北碚府发〔2019〕75号'))).toBe(true)
  // Non-streaming by default: one POST /v1/chat, no session id on the first turn.
  expect(chatRequests()).toHaveLength(1)
  expect(chatRequests()[0].body).toEqual({ message: '自建电商平台有什么补贴？' })
  expect(ctx.runtime.requests.some((r) => r.url.includes('/stream'))).toBe(false)
})

test('tapping a citation chip opens the clause text from /v1/clauses/{id}', async () => {
  const page = render(ctx.pageId)
  const answer = await ask(page, '自建电商平台有什么补贴？')
  expect(page.querySelector('.clause-panel')).toBeFalsy()

  const chip = page.querySelectorAll('.citation').find((c) => text(c).startsWith('【附件-11】'))
  chip.dispatchEvent('tap')
  await until(() => text(page.querySelector('.clause-text')), 'the clause text')

  expect(text(page.querySelector('.clause-id'))).toBe('【附件-11】支持企业自建电子商务平台')
  expect(text(page.querySelector('.clause-text'))).toBe(
    '在北碚区注册的电子商务企业，对自建电子商务平台，项目投资100万元以上且建成运营后首年网上交易额达1-5亿元、' +
      '5亿元以上的本地法人企业，分别给予30万元、50万元一次性财政扶持。',
  )
  expect(text(page.querySelector('.clause-section'))).toContain('任务分解表')
  // Its counterpart in the main text is shown too (amounts and conditions follow the annex).
  expect(text(page.querySelector('.counterpart'))).toContain('对应条款【三(四)】')
  const clauseRequest = ctx.runtime.requests.find((r) => r.url.includes('/v1/clauses/'))
  expect(decodeURIComponent(clauseRequest.url)).toMatch(/\/v1\/clauses\/附件-11$/)

  page.querySelector('.close-clause').dispatchEvent('tap')
  await until(() => !page.querySelector('.clause-panel'), 'the panel to close')

  // An inline chip opens its clause as well.
  page.querySelectorAll('.inline-cite').find((c) => text(c) === '三(四)').dispatchEvent('tap')
  await until(() => text(page.querySelector('.clause-text')), 'the main-text clause')
  expect(text(page.querySelector('.clause-id'))).toBe('【三(四)】支持企业自建电子商务平台')
  expect(text(page.querySelector('.clause-text'))).toContain('牵头单位：区商务委')
})

test('follow-up turns keep the session; feedback rates the right turn; new conversation starts afresh', async () => {
  const page = render(ctx.pageId)
  await ask(page, '自建电商平台有什么补贴？')
  const second = await ask(page, '那首年交易额要达到多少？')
  const [first, followUp] = chatRequests()
  expect(followUp.body.session_id).toBeTruthy()
  expect(followUp.body.session_id).toBe(page.instance.data.sessionId)

  page.querySelectorAll('.rate-down')[1].dispatchEvent('tap') // the second answer's 👎
  await until(() => inside(second, 'thanks').length, 'the feedback acknowledgement')
  expect(text(inside(second, 'thanks')[0])).toBe('已收到反馈：👎 没帮助')
  const vote = ctx.runtime.requests.find((r) => r.url.endsWith('/v1/feedback'))
  expect(vote.statusCode).toBe(201)
  expect(vote.body).toEqual({ session_id: followUp.body.session_id, turn: 1, rating: 'down' })
  // The first answer is still unrated and can be rated up.
  const firstAnswer = page.querySelectorAll('.answer')[0]
  expect(inside(firstAnswer, 'thanks')).toHaveLength(0)
  expect(page.querySelectorAll('.rate-up')).toHaveLength(1) // only the unrated answer still offers 👍
  page.querySelectorAll('.rate-up')[0].dispatchEvent('tap')
  await until(() => inside(firstAnswer, 'thanks').length, 'the second acknowledgement')
  expect(text(inside(firstAnswer, 'thanks')[0])).toBe('已收到反馈：👍 有帮助')
  expect(ctx.runtime.requests.filter((r) => r.url.endsWith('/v1/feedback'))[1].body.turn).toBe(0)

  page.querySelector('.new-conversation').dispatchEvent('tap')
  await until(() => page.querySelector('.hint'), 'the empty conversation')
  expect(page.querySelectorAll('.answer')).toHaveLength(0)
  await ask(page, '自建电商平台有什么补贴？')
  const third = chatRequests()[2]
  expect(third.body.session_id).toBeUndefined()
  expect(page.instance.data.sessionId).not.toBe(followUp.body.session_id)
  expect(first.body.session_id).toBeUndefined()
})

test('an error from the API is shown and the question is kept for a retry', async () => {
  const page = render(ctx.pageId)
  const long = '补贴'.repeat(1500) // over the server's 2000-character limit: 422 message_too_long
  page.querySelector('.question').dispatchEvent('input', { detail: { value: long } })
  page.querySelector('.send').dispatchEvent('tap')
  await until(() => text(page.querySelector('.error')), 'the error banner')
  expect(text(page.querySelector('.error'))).toBe('问题过长：最多 2000 个字符，当前 3000 个。')
  expect(page.querySelectorAll('.answer')).toHaveLength(0)
  expect(page.instance.data.input).toBe(long)
})
