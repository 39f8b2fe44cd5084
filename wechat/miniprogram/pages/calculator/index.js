// Calculator page: the EnterpriseProfile of POST /v1/calculate, with amounts typed in 万元 (how enterprises
// quote them) and sent in 元 as exact decimal strings. Fields left empty are not sent: the API treats an
// unstated fact as unknown (that item then asks for it), never as "no".
const api = require('../../utils/api.js')
const { wanToYuan, money } = require('../../utils/format.js')

const YES_NO = [
  { label: '未填写', value: null },
  { label: '是', value: true },
  { label: '否', value: false },
]
const LEVELS = [
  { label: '未填写', value: null },
  { label: '国家级', value: 'national' },
  { label: '市级', value: 'municipal' },
  { label: '未获认定', value: 'none' },
]

// kind: 'choice' (picker), 'wan' (万元 → 元), 'wan-list' (1-5 yearly 万元 figures), 'number' (sent as typed).
const FIELDS = [
  { key: 'registered_in_beibei', label: '是否在北碚区注册', kind: 'choice', options: YES_NO },
  { key: 'local_legal_entity', label: '是否为本地法人企业', kind: 'choice', options: YES_NO },
  {
    key: 'new_hq_type',
    label: '在北碚区新设立的电商机构类型',
    kind: 'choice',
    options: [
      { label: '未填写', value: null },
      { label: '区域总部', value: 'regional_hq' },
      { label: '营销中心', value: 'marketing_center' },
      { label: '结算中心', value: 'settlement_center' },
      { label: '运营中心', value: 'operations_center' },
      { label: '不属于以上', value: 'none' },
    ],
  },
  { key: 'registered_capital_yuan', label: '注册资金', kind: 'wan', unit: '万元' },
  { key: 'online_annual_sales_yuan', label: '线上年销售收入', kind: 'wan', unit: '万元' },
  { key: 'sales_in_statistics', label: '线上销售数据是否入统', kind: 'choice', options: YES_NO },
  { key: 'years_in_operation', label: '正常经营年限', kind: 'number', unit: '年' },
  { key: 'office_purchase_price_yuan', label: '在区内购买办公用房总价', kind: 'wan', unit: '万元' },
  { key: 'office_annual_rent_yuan', label: '在区内租用办公用房年租金', kind: 'wan', unit: '万元' },
  { key: 'rent_years', label: '租用年限（整数年）', kind: 'number', unit: '年' },
  {
    key: 'annual_local_contribution_yuan',
    label: '对北碚区地方经济发展贡献',
    hint: '自产生贡献起逐年填写，用逗号分隔，最多5年；只填一个数视为每年相同',
    kind: 'wan-list',
    unit: '万元/年',
  },
  { key: 'demo_base_level', label: '电子商务示范基地（园区）认定级别', kind: 'choice', options: LEVELS },
  { key: 'demo_enterprise_level', label: '电子商务示范企业认定级别', kind: 'choice', options: LEVELS },
  { key: 'platform_project_investment_yuan', label: '自建电商平台项目投资', kind: 'wan', unit: '万元' },
  { key: 'platform_first_year_online_transactions_yuan', label: '自建平台首年网上交易额', kind: 'wan', unit: '万元' },
  { key: 'cross_border_retail_usd', label: '跨境电商零售进出口额（美元）', kind: 'wan', unit: '万美元' },
  { key: 'cross_border_retail_cny', label: '跨境电商零售进出口额（人民币）', kind: 'wan', unit: '万元' },
  { key: 'usd_cny_rate', label: '美元兑人民币汇率', kind: 'number', unit: '' },
]

const STATUS = { eligible: '可享受', not_eligible: '不符合条件', needs_info: '需补充信息', non_monetary: '非资金支持' }
const LABEL = FIELDS.reduce((acc, f) => Object.assign(acc, { [f.key]: f.label }), {})

// The request body for what was filled in, or {error} naming the first field that is not a valid amount.
function buildProfile(values) {
  const profile = {}
  for (const f of FIELDS) {
    const raw = values[f.key]
    if (f.kind === 'choice') {
      const option = f.options[raw || 0]
      if (option.value !== null) profile[f.key] = option.value
      continue
    }
    const typed = String(raw || '').trim()
    if (!typed) continue
    if (f.kind === 'number') {
      profile[f.key] = typed // the server checks the range and says what is wrong
    } else if (f.kind === 'wan') {
      const yuan = wanToYuan(typed)
      if (yuan === null) return { error: f.label + '：请输入非负数（单位' + f.unit + '，最多6位小数）' }
      profile[f.key] = yuan
    } else {
      const figures = typed.split(/[,，、\s]+/).filter(Boolean).map(wanToYuan)
      if (figures.length > 5 || figures.some((y) => y === null)) {
        return { error: f.label + '：请输入1至5个非负数（单位' + f.unit + '），用逗号分隔' }
      }
      profile[f.key] = figures.length === 1 ? figures[0] : figures
    }
  }
  return { profile }
}

function describe(result) {
  // Only the policies the profile speaks to (the API marks them `touched`); all of them if none is.
  const touched = result.items.filter((it) => it.touched)
  const items = (touched.length ? touched : result.items).map((it) => ({
    policy_id: it.policy_id,
    title: it.title,
    status: it.status,
    statusText: STATUS[it.status] || it.status,
    amount: it.amount_yuan === null ? '' : (it.is_upper_bound ? '最高 ' : '') + money(it.amount_yuan),
    basis: it.basis,
    missing: it.missing_facts.map((k) => LABEL[k] || k).join('、'),
    unmet: it.conditions_unmet.join('；'),
    clauses: it.clause_ids.join('、'),
  }))
  return {
    items,
    total: (result.total_is_upper_bound ? '最高 ' : '') + money(result.total_yuan),
    notes: result.notes,
  }
}

// The server names a field by its key ("字段 rent_years …"); the user knows it by its label.
function withLabel(err) {
  const label = err.field && LABEL[err.field]
  return label ? err.message.split('字段 ' + err.field).join('「' + label + '」') : err.message
}

Component({
  data: {
    fields: FIELDS.map((f) => Object.assign({ labels: f.options ? f.options.map((o) => o.label) : [] }, f)),
    values: {}, // field key → typed text, or the picked option's index
    busy: false,
    error: '',
    result: null,
  },

  methods: {
    onInput(e) {
      this.setData({ ['values.' + e.currentTarget.dataset.key]: e.detail.value })
    },

    onPick(e) {
      this.setData({ ['values.' + e.currentTarget.dataset.key]: Number(e.detail.value) })
    },

    calculate() {
      const built = buildProfile(this.data.values)
      if (built.error) {
        this.setData({ error: built.error, result: null })
        return Promise.resolve()
      }
      this.setData({ busy: true, error: '' })
      return api.calculate(built.profile).then(
        (result) => this.setData({ result: describe(result), busy: false }),
        (err) => this.setData({ error: withLabel(err), result: null, busy: false }),
      )
    },

    reset() {
      this.setData({ values: {}, result: null, error: '' })
    },
  },
})
