// Text and money helpers shared by the pages. Pure functions: no wx, no network.
//
// Money is handled as decimal strings, never as JS numbers: 0.1 + 0.2 is not 0.3 in binary floating point,
// and the API returns and accepts exact decimal strings in 元. The calculator page takes amounts in 万元
// (what enterprises quote), so 万元 ↔ 元 is a shift of the decimal point by four places, done on the digits.

const DECIMAL = /^(\d+)(?:\.(\d+))?$/

// "12.5" 万元 → "125000" 元; null for anything that is not a plain non-negative decimal.
// 元 carry at most 2 decimals (分), so 万元 may carry at most 6.
function wanToYuan(text) {
  const m = DECIMAL.exec(String(text).trim())
  if (!m) return null
  const frac = m[2] || ''
  if (frac.length > 6) return null
  const digits = m[1] + (frac + '0000').slice(0, 4)
  return canonical(digits + (frac.length > 4 ? '.' + frac.slice(4) : ''))
}

// "1234567.8" 元 → "123.45678" 万元 (exact).
function yuanToWan(text) {
  const m = DECIMAL.exec(String(text))
  if (!m) return String(text)
  const whole = m[1].padStart(5, '0')
  return canonical(whole.slice(0, -4) + '.' + whole.slice(-4) + (m[2] || ''))
}

// No leading zeros, no trailing fractional zeros: "0012.3400" → "12.34", "5.000" → "5".
function canonical(text) {
  let [whole, frac = ''] = text.split('.')
  whole = whole.replace(/^0+(?=\d)/, '')
  frac = frac.replace(/0+$/, '')
  return frac ? whole + '.' + frac : whole
}

// "1234567.5" → "1,234,567.5"
function groupDigits(text) {
  const [whole, frac] = String(text).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',')
  return frac ? grouped + '.' + frac : grouped
}

// How an amount in 元 is shown: "100万元（1,000,000元）".
function money(yuan) {
  if (yuan === null || yuan === undefined) return ''
  return yuanToWan(yuan) + '万元（' + groupDigits(yuan) + '元）'
}

// The answer is markdown with inline 【clause id】 references. WXML has no markdown, so each line becomes
// a block {bullet, indent, parts}; a part is {text, bold} or {cite} (rendered as a tappable chip).
// Only what the assistant writes is handled: "- " bullets, indentation, **bold**.
function answerBlocks(answer) {
  const blocks = []
  String(answer || '')
    .split('\n')
    .forEach((raw) => {
      if (!raw.trim()) return
      const m = /^(\s*)([-*]\s+)?(.*)$/.exec(raw)
      blocks.push({ indent: Math.floor(m[1].length / 2), bullet: !!m[2], parts: inlineParts(m[3]) })
    })
  return blocks
}

function inlineParts(line) {
  const parts = []
  const pattern = /【([^】]+)】|\*\*([^*]+)\*\*/g
  let last = 0
  let m
  while ((m = pattern.exec(line)) !== null) {
    if (m.index > last) parts.push({ text: line.slice(last, m.index) })
    if (m[1] !== undefined) parts.push({ cite: m[1] })
    else parts.push({ text: m[2], bold: true })
    last = pattern.lastIndex
  }
  if (last < line.length) parts.push({ text: line.slice(last) })
  return parts
}

module.exports = { wanToYuan, yuanToWan, groupDigits, money, answerBlocks }
