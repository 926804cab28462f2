import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { describeJsonError, lineColumn } from '../../src/data/jsonSyntax.js'

describe('describeJsonError', () => {
  it('pins the message of each kind of syntax error, with line and column', () => {
    expect(describeJsonError('{"format": "sbnkit-data/1", "inputs": {"x": [[1, 2], [3,')).toBe(
      'line 1, column 57: the text ends inside an array (is the file truncated?)',
    )
    expect(describeJsonError('{"x": {"a": 1')).toBe('line 1, column 14: the text ends inside an object (is the file truncated?)')
    expect(describeJsonError('{"x": "abc')).toBe('line 1, column 11: the text ends inside a string (is the file truncated?)')
    expect(describeJsonError('{"x":\n [1, NaN]}')).toBe(
      'line 2, column 6: expected a value, found NaN (JSON has no NaN or Infinity; write finite numbers)',
    )
    expect(describeJsonError('[-Infinity]')).toBe(
      'line 1, column 2: expected a value, found -Infinity (JSON has no NaN or Infinity; write finite numbers)',
    )
    expect(describeJsonError('{"x": [1 2]}')).toBe('line 1, column 10: expected "," or "]", found "2"')
    expect(describeJsonError('{"x" 1}')).toBe('line 1, column 6: expected ":", found "1"')
    expect(describeJsonError("{'x': 1}")).toBe('line 1, column 2: expected a field name in double quotes, found "\'"')
    expect(describeJsonError('[1, 2] x')).toBe('line 1, column 8: expected the end of the text, found "x"')
    expect(describeJsonError('[tru]')).toBe('line 1, column 5: expected "true", found "]"')
    expect(describeJsonError('[-]')).toBe('line 1, column 3: expected a digit, found "]"')
    expect(describeJsonError('["\\x"]')).toBe('line 1, column 4: expected an escape character (one of " \\ / b f n r t u), found "x"')
    expect(describeJsonError('  ')).toBe('line 1, column 1: the text is empty (expected a JSON object)')
  })
  it('law: accepts exactly what JSON.parse accepts, on JSON texts and their truncations', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (v, cut) => {
        const text = JSON.stringify(v, null, cut % 3)
        expect(describeJsonError(text)).toBeUndefined()
        const prefix = text.slice(0, cut % (text.length + 1))
        let ok = true
        try {
          JSON.parse(prefix)
        } catch {
          ok = false
        }
        expect(describeJsonError(prefix) === undefined).toBe(ok)
      }),
    )
  })
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
    expect(lineColumn('ab', 0)).toEqual({ line: 1, column: 1 })
  })
})
