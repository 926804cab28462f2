/**
 * The printer: a network in A-normal form, one binder per line, for reading and for diffs.
 *
 * ```text
 * %0 : real[batch, 784] = input x
 * %1 : real[784, 512] = param[init=uniform(-1, 1), trainable] layer1.W
 * %2 : binary[784, 512] = binarize[logistic(1), site=layer1.W] %1
 * %3 : real[batch, 512] = matmul %0 %2
 * %4 : real[512] = param[init=zeros, trainable] layer1.b
 * %5 : real[batch, 512] = add %3 %4        -- layer1
 * out output = %5
 * ```
 *
 * Each line is `%i : dtype[shape] = op[static attributes] operands`, with operands in the order
 * of `childRoles`. Binders are numbered in `topoOrder` of the outputs (in their insertion order),
 * which depends only on the structure of the DAG, so a network rebuilt by the same code prints
 * the same text. A shared node is one binder. Labels are trailing `--` comments, aligned.
 * Every static attribute is shown, so two networks print alike only if they are the same
 * network (parameter values aside: they are data, not structure).
 */
import type { Algebra } from './fold.js'
import { dispatch, topoOrder } from './fold.js'
import type { Init, Network, Node, Shape, TensorType } from './node.js'
import { children } from './node.js'
import { showNoise } from './noise.js'

// ---------------------------------------------------------------------------------------------
// Rules: the right-hand side of a binder, given the binder names of the node's children

/** `op` or `op[a, b]`, then the operands. */
const rhs = (op: string, attrs: readonly string[], operands: readonly string[]): string =>
  [attrs.length === 0 ? op : `${op}[${attrs.join(', ')}]`, ...operands].join(' ')

const pair = (p: readonly [number, number]): string => `${p[0]}x${p[1]}`

/**
 * The right-hand side of each primitive. The fold's value for a child is its binder (`%3`), so
 * this table is an `Algebra<string>`: adding a primitive makes the compiler ask for its line.
 */
export const printRules: Algebra<string> = {
  Input: (n) => rhs('input', [], [ident(n.name)]),
  Param: (n) => rhs('param', [`init=${showInit(n.init)}`, n.trainable ? 'trainable' : 'frozen'], [ident(n.name)]),
  Const: (n) => rhs('const', [], [String(n.value)]),
  MatMul: (_, a) => rhs('matmul', [], [a.lhs, a.rhs]),
  Add: (_, a) => rhs('add', [], [a.lhs, a.rhs]),
  Mul: (_, a) => rhs('mul', [], [a.lhs, a.rhs]),
  Unary: (n, a) => rhs('unary', [n.op], [a.arg]),
  Conv2d: (n, a) =>
    rhs('conv2d', [`stride=${pair(n.stride)}`, `padding=${pair(n.padding)}`, `padValue=${n.padValue}`], [a.input, a.kernel]),
  Pool: (n, a) => rhs('pool', [n.op, `window=${pair(n.window)}`, `stride=${pair(n.stride)}`], [a.input]),
  Reshape: (n, a) => rhs('reshape', [`shape=${showDims(n.shape)}`], [a.input]),
  BatchNorm: (n, a) =>
    rhs('batchNorm', [`mode=${n.mode}`, `eps=${n.eps}`, `momentum=${n.momentum}`], [
      a.input, a.gamma, a.beta, a.runningMean, a.runningVar,
    ]),
  Binarize: (n, a) => rhs('binarize', [showNoise(n.noise), `site=${ident(n.site)}`], [a.input]),
  Loss: (n, a) => rhs('loss', [n.op], [a.logits, a.target]),
}

// ---------------------------------------------------------------------------------------------
// The printer

/**
 * Prints a network (checked or not) in A-normal form, one binder per line, then one
 * `out <name> = %i` line per output.
 *
 * @example
 * import { pipe } from 'fp-ts/lib/function.js'
 * import { dense, input, print } from 'sbnkit/dsl'
 * print({ outputs: { output: pipe(input('x', ['batch', 2]), dense(3)) }, params: {} })
 */
export const print = (net: Network): string => {
  const order = topoOrder(Object.values(net.outputs))
  const binder = new Map<Node, string>(order.map((n, i) => [n, `%${i}`]))
  const name = (n: Node): string => binder.get(n) ?? '%?'
  const lines = order.map((node) => {
    const args: Record<string, string> = {}
    for (const [role, child] of children(node)) args[role] = name(child)
    return { text: `${name(node)} : ${showType(node.type)} = ${dispatch(printRules, node, args, undefined)}`, label: node.label }
  })
  // Comments start in one column: two spaces past the longest labelled line.
  const column = Math.max(0, ...lines.filter((l) => l.label !== undefined).map((l) => l.text.length)) + 2
  const body = lines.map((l) => (l.label === undefined ? l.text : `${l.text.padEnd(column)}-- ${ident(l.label)}`))
  const outs = Object.entries(net.outputs).map(([out, node]) => `out ${ident(out)} = ${name(node)}`)
  return [...body, ...outs].join('\n')
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** `real[batch, 784]`; a scalar is `real[]`. */
export const showType = (t: TensorType): string => `${t.dtype}${showDims(t.shape)}`

const showDims = (s: Shape): string => `[${s.join(', ')}]`

/** The initialiser as written in the model format: `glorot`, `uniform(-1, 1)`. */
export const showInit = (init: Init): string => {
  switch (init.kind) {
    case 'zeros':
    case 'ones':
    case 'glorot':
      return init.kind
    case 'constant':
      return `constant(${init.value})`
    case 'normal':
      return `normal(${init.std})`
    case 'uniform':
      return `uniform(${init.low}, ${init.high})`
  }
}

/**
 * A name as written: bare when it is a plain identifier path (`layer1.W`, `x_0`), else quoted as a
 * JSON string, so a name with spaces, `%` or a newline cannot break the one-binder-per-line form.
 */
const ident = (s: string): string => (/^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/.test(s) ? s : JSON.stringify(s))
