/**
 * Locating a JSON syntax error. `JSON.parse` is fast but its messages change between Node
 * versions and quote whole (possibly huge) inputs, so when it fails we re-scan the text with this
 * small recogniser (iterative: an explicit stack of open containers), which stops at the first error and describes it in our own
 * words with a line and column: `line 3, column 9: expected "," or "]", found "2"`. It is only run
 * on text that already failed to parse, so it is written for clarity, not speed.
 */

/** Thrown inside the scanner to unwind to `describeJsonError`; never escapes this module. */
class SyntaxStop {
  constructor(readonly offset: number, readonly message: string) {}
}

const isWs = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r'
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

const showChar = (c: string): string => (c === '"' ? `'"'` : JSON.stringify(c))

/** Recognises one JSON text; throws `SyntaxStop` at the first error. */
const scan = (text: string): void => {
  let i = 0
  const fail = (expected: string, within: string): never => {
    if (i >= text.length) throw new SyntaxStop(i, `the text ends inside ${within} (is the file truncated?)`)
    const c = text[i]!
    if (expected === 'a value') {
      const rest = text.slice(i, i + 9)
      const special = ['NaN', 'Infinity', '-Infinity'].find((w) => rest.startsWith(w))
      if (special !== undefined) {
        throw new SyntaxStop(i, `expected a value, found ${special} (JSON has no NaN or Infinity; write finite numbers)`)
      }
    }
    throw new SyntaxStop(i, `expected ${expected}, found ${showChar(c)}`)
  }
  const ws = (): void => {
    while (i < text.length && isWs(text[i]!)) i++
  }
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`, `the word ${word}`)
      i++
    }
  }
  const digits = (within: string): void => {
    if (!isDigit(text[i])) fail('a digit', within)
    while (isDigit(text[i])) i++
  }
  const number = (): void => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else digits('a number')
    if (text[i] === '.') {
      i++
      digits('a number')
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      digits('a number')
    }
  }
  const string = (): void => {
    i++ // the opening quote
    for (;;) {
      if (i >= text.length) fail('a closing \'"\'', 'a string')
      const c = text[i]!
      if (c === '"') {
        i++
        return
      }
      if (c < ' ') fail('a character or \'"\' (control characters must be escaped)', 'a string')
      if (c === '\\') {
        i++
        const e = text[i]
        if (e === 'u') {
          i++
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail('a hexadecimal digit', 'a string')
            i++
          }
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++
        else fail('an escape character (one of " \\ / b f n r t u)', 'a string')
      } else i++
    }
  }
  // Containers are kept on an explicit stack, not the call stack: the nesting depth comes from
  // the file (a truncated file 100 000 arrays deep is described like any other).
  const key = (): void => {
    ws()
    if (text[i] !== '"') fail('a field name in double quotes', 'an object')
    string()
    ws()
    if (text[i] !== ':') fail('":"', 'an object')
    i++
  }
  const value = (outer: string): void => {
    const open: Array<'array' | 'object'> = []
    for (;;) {
      // At the start of a value.
      ws()
      const within = open.length === 0 ? outer : `an ${open[open.length - 1]!}`
      const c = text[i]
      if (c === '{' || c === '[') {
        i++
        ws()
        const close = c === '{' ? '}' : ']'
        if (text[i] !== close) {
          open.push(c === '{' ? 'object' : 'array')
          if (c === '{') key()
          continue
        }
        i++
      } else if (c === '"') string()
      else if (text.startsWith('-Infinity', i)) fail('a value', within)
      else if (c === '-' || isDigit(c)) number()
      else if (c === 't') literal('true')
      else if (c === 'f') literal('false')
      else if (c === 'n') literal('null')
      else fail('a value', within)
      // After a complete value: close containers until one continues with ",".
      for (;;) {
        ws()
        const top = open[open.length - 1]
        if (top === undefined) return
        const close = top === 'object' ? '}' : ']'
        if (text[i] === ',') {
          i++
          if (top === 'object') key()
          break
        }
        if (text[i] !== close) fail(`"," or "${close}"`, `an ${top}`)
        i++
        open.pop()
      }
    }
  }
  if (text.trim() === '') throw new SyntaxStop(0, 'the text is empty (expected a JSON object)')
  value('the data')
  if (i < text.length) fail('the end of the text', 'the data')
}

/** 1-based line and column of a character offset. */
export const lineColumn = (text: string, offset: number): { readonly line: number; readonly column: number } => {
  let line = 1
  let start = 0
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++
      start = k + 1
    }
  }
  return { line, column: offset - start + 1 }
}

/**
 * Describes why `text` is not JSON, or returns `undefined` if the recogniser accepts it.
 * @example describeJsonError('{"x": [1 2]}') // 'line 1, column 10: expected "," or "]", found "2"'
 */
export const describeJsonError = (text: string): string | undefined => {
  try {
    scan(text)
    return undefined
  } catch (stop) {
    if (!(stop instanceof SyntaxStop)) throw stop
    const { line, column } = lineColumn(text, stop.offset)
    return `line ${line}, column ${column}: ${stop.message}`
  }
}
