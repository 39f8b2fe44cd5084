// The calculator page against the real assistant API server: an e-commerce HQ profile typed in 万元.
const { render, until, text, inside, usePage } = require('./helpers')
const { wanToYuan, yuanToWan, money } = require('../miniprogram/utils/format.js')

const ctx = usePage('calculator')

// Fills one field as a user would: typing into an amount box, or picking an option by its label.
function fill(page, key, value) {
  const field = page.querySelector('.field-' + key)
  if (!field) throw new Error('no field ' + key)
  const picker = page.querySelectorAll('.picker').find((p) => p.dom.getAttribute('data-key') === key)
  if (picker) {
    const labels = page.instance.data.fields.find((f) => f.key === key).labels
    const index = labels.indexOf(value)
    if (index < 0) throw new Error(key + ' has no option ' + value)
    picker.dispatchEvent('change', { detail: { value: String(index) } })
  } else {
    const input = page.querySelectorAll('.input').find((i) => i.dom.getAttribute('data-key') === key)
    input.dispatchEvent('input', { detail: { value } })
  }
}

async function calculate(page) {
  page.querySelector('.calculate').dispatchEvent('tap')
  await until(() => page.querySelector('.total') || text(page.querySelector('.error')), 'the result')
}

test('an e-commerce HQ profile in 万元 gets its itemised subsidies and the total', async () => {
  const page = render(ctx.pageId)
  fill(page, 'registered_in_beibei', '是')
  fill(page, 'local_legal_entity', '是')
  fill(page, 'new_hq_type', '区域总部')
  fill(page, 'registered_capital_yuan', '2000')
  fill(page, 'online_annual_sales_yuan', '15000')
  fill(page, 'sales_in_statistics', '是')
  fill(page, 'years_in_operation', '2')
  fill(page, 'office_purchase_price_yuan', '300')
  fill(page, 'annual_local_contribution_yuan', '200，200, 200、100 100')
  await calculate(page)

  expect(text(page.querySelector('.error'))).toBe('')
  // What went over the wire: 元, as exact decimal strings; unfilled fields are absent, not false or 0.
  const sent = ctx.runtime.requests.find((r) => r.url.endsWith('/v1/calculate'))
  expect(sent.statusCode).toBe(200)
  expect(sent.body).toEqual({
    registered_in_beibei: true,
    local_legal_entity: true,
    new_hq_type: 'regional_hq',
    registered_capital_yuan: '20000000',
    online_annual_sales_yuan: '150000000',
    sales_in_statistics: true,
    years_in_operation: '2',
    office_purchase_price_yuan: '3000000',
    annual_local_contribution_yuan: ['2000000', '2000000', '2000000', '1000000', '1000000'],
  })

  // 100万 establishment + 50万 purchase cap (60万 × … capped) + 3×200万×100% + 2×100万×50% = 850万.
  expect(text(page.querySelector('.total'))).toBe('合计：最高 850万元（8,500,000元）')
  const items = page.querySelectorAll('.item')
  const byTitle = {}
  items.forEach((it) => {
    byTitle[text(inside(it, 'item-title')[0])] = it
  })
  const establishment = byTitle['电子商务总部企业引进一次性产业扶持']
  expect(text(inside(establishment, 'item-status')[0])).toBe('可享受')
  expect(text(inside(establishment, 'item-amount')[0])).toBe('100万元（1,000,000元）')
  expect(text(inside(establishment, 'item-basis')[0])).toContain('注册资金2000万元')
  const purchase = byTitle['电子商务总部企业购买办公用房补贴']
  expect(text(inside(purchase, 'item-amount')[0])).toBe('最高 50万元（500,000元）')
  const reward = byTitle['电子商务总部企业地方经济发展贡献奖励']
  expect(text(inside(reward, 'item-amount')[0])).toBe('700万元（7,000,000元）')
  // The rent subsidy needs the rent: the page names the missing field by its label.
  const rent = byTitle['电子商务总部企业租用办公用房补贴']
  expect(text(inside(rent, 'item-status')[0])).toBe('需补充信息')
  expect(text(inside(rent, 'item-missing')[0])).toBe('尚需填写：在区内租用办公用房年租金')
  expect(text(inside(rent, 'item-clauses')[0])).toBe('依据条款：三(一)、附件-10')
  // Policies the profile does not speak to (demonstration bases, cross-border) are left out.
  expect(byTitle['电子商务示范基地（园区）一次性奖励']).toBeUndefined()
})

test('a small HQ misses the thresholds, and the page says which', async () => {
  const page = render(ctx.pageId)
  fill(page, 'new_hq_type', '区域总部')
  fill(page, 'registered_capital_yuan', '999.99')
  fill(page, 'online_annual_sales_yuan', '15000')
  fill(page, 'sales_in_statistics', '是')
  fill(page, 'years_in_operation', '2')
  await calculate(page)
  const sent = ctx.runtime.requests.find((r) => r.url.endsWith('/v1/calculate'))
  expect(sent.body.registered_capital_yuan).toBe('9999900')
  const establishment = page
    .querySelectorAll('.item')
    .find((it) => text(inside(it, 'item-title')[0]) === '电子商务总部企业引进一次性产业扶持')
  expect(text(inside(establishment, 'item-status')[0])).toBe('不符合条件')
  expect(text(inside(establishment, 'item-unmet')[0])).toContain('999.99万元')
  expect(text(page.querySelector('.total'))).toBe('合计：0万元（0元）')
})

test('input errors: a bad amount is caught on the page, an out-of-range one by the server', async () => {
  const page = render(ctx.pageId)
  fill(page, 'registered_capital_yuan', '2千万')
  await calculate(page)
  expect(text(page.querySelector('.error'))).toBe('注册资金：请输入非负数（单位万元，最多6位小数）')
  expect(ctx.runtime.requests).toHaveLength(0)

  fill(page, 'registered_capital_yuan', '2000')
  fill(page, 'rent_years', '101')
  page.querySelector('.calculate').dispatchEvent('tap')
  const calc = () => ctx.runtime.requests.find((r) => r.url.endsWith('/v1/calculate'))
  await until(() => calc() && calc().statusCode, 'the answer to the request')
  await until(() => text(page.querySelector('.error')) !== '注册资金：请输入非负数（单位万元，最多6位小数）', 'a new error')
  expect(calc().statusCode).toBe(422)
  expect(calc().header.Authorization).toMatch(/^Bearer pawx\./) // the reads carry the token too
  // The server's message, with the field's label in place of its key.
  expect(text(page.querySelector('.error'))).toMatch(/^「租用年限（整数年）」.*超出范围/)
  expect(page.querySelector('.total')).toBeFalsy()
})

test('万元 ↔ 元 conversions are exact', () => {
  expect(wanToYuan('2000')).toBe('20000000')
  expect(wanToYuan('0.000001')).toBe('0.01')
  expect(wanToYuan('12.345678')).toBe('123456.78')
  expect(wanToYuan('0012.50')).toBe('125000')
  expect(wanToYuan('0.0000001')).toBeNull() // below 1 分
  expect(wanToYuan('-5')).toBeNull()
  expect(wanToYuan('1e3')).toBeNull()
  expect(yuanToWan('8500000')).toBe('850')
  expect(yuanToWan('500')).toBe('0.05')
  expect(yuanToWan('1234567.89')).toBe('123.456789')
  expect(yuanToWan('0')).toBe('0')
  expect(money('123456789.5')).toBe('12345.67895万元（123,456,789.5元）')
})
