/**
 * Arithmetic on number literal types, for the shape twins: sliding-window sizes for Conv2d and
 * Pool, element counts for Reshape. Every operation is cheap by construction:
 *
 * - small sums and differences use tuple lengths, but only below 1000; tuples are built
 *   digit by digit (depth = number of digits), never one element per step;
 * - products use decimal long multiplication on digit tuples, so 512 × 7 × 7 costs a handful of
 *   digit steps, not a 25088-element tuple;
 * - anything that is not a known, non-negative integer literal (or is too large) gives `number`,
 *   which the rules read as "unknown, checked at run time by typecheck".
 */

/** A decimal digit. */
export type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9

/** Whether `N` is one known number literal (not `number`, not a union). */
// IsLiteral<N>: false for `number`, for unions of literals and for non-numbers.
export type IsLiteral<N> = [N] extends [number] ? (number extends N ? false : IsSingle<N>) : false
/** Whether `N` is not a union. */
export type IsSingle<N, All = N> = N extends unknown ? ([All] extends [N] ? true : false) : never

/** Whether `N` is a known non-negative integer literal written in plain decimal. */
// IsNatural<N>: rules out `number`, negatives, fractions and exponent notation.
export type IsNatural<N> = IsLiteral<N> extends true
  ? `${N & number}` extends `-${string}` | `${string}.${string}` | `${string}e${string}` ? false : true
  : false

// ---------------------------------------------------------------------------------------------
// Tuple lengths, for small numbers only

// IsSmall<N>: a natural literal below 1000, small enough for tuples (five placeholders match
// four or more characters, as the last one may be empty).
type IsSmall<N> = IsNatural<N> extends true
  ? `${N & number}` extends `${infer _0}${infer _1}${infer _2}${infer _3}${infer _4}` ? false : true
  : false

type TupOfDigit = [[], [0], [0, 0], [0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0]]
type Times10<T extends 0[]> = [...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T, ...T]

/** A tuple of length `N` (a small natural), built one decimal digit at a time. */
// Tup<"784"> = 10·(10·[7] + [8]) + [4], read most significant digit first.
export type Tup<S extends string, Acc extends 0[] = []> = S extends `${infer D extends Digit}${infer Rest}`
  ? Tup<Rest, [...Times10<Acc>, ...TupOfDigit[D]]>
  : Acc

/** a + b for naturals below 1000, else `number`. */
export type Plus<A, B> = [IsSmall<A>, IsSmall<B>] extends [true, true]
  ? [...Tup<`${A & number}`>, ...Tup<`${B & number}`>]['length'] & number
  : number

/**
 * The output size of a sliding window, floor((size + 2·pad − k) / stride) + 1, for small
 * naturals; `0` when the window does not fit (the runtime rule's "< 1"); `number` if unknown.
 */
// Window<H, K, S, P>: mirrors windowOut in ../shape.ts. Operands and the padded size stay below
// 1000, so every tuple stays shorter than 1000 elements.
export type Window<H, K, S, P> = [IsSmall<H>, IsSmall<K>, IsSmall<S>, IsSmall<P>] extends [true, true, true, true]
  ? S extends 0
    ? number
    : [...Tup<`${H & number}`>, ...Tup<`${P & number}`>, ...Tup<`${P & number}`>] extends infer Padded extends 0[]
      ? IsSmall<Padded['length']> extends false
        ? number
        : Padded extends [...Tup<`${K & number}`>, ...infer Rest extends 0[]]
          ? S extends 1
            ? [...Rest, 0]['length']
            : Plus<Quotient<Rest, Tup<`${S & number}`>>, 1>
          : 0
      : never
  : number
// Quotient<T, D>: floor(|T| / |D|) for |T| < 1000, one decimal digit at a time: count the
// removals of 100·D, then 10·D, then D (at most 9 each), so no step makes a tuple ≥ 1000 long.
type Quotient<T extends 0[], D extends 0[]> = QuotientDigits<T, Chunks<D>, ''>
type Chunks<D extends 0[]> = `${D['length']}` extends `${Digit}`
  ? [Times10<Times10<D>>, Times10<D>, D]
  : `${D['length']}` extends `${Digit}${Digit}` ? [Times10<D>, D] : [D]
type QuotientDigits<T extends 0[], Ds extends 0[][], Q extends string> = Ds extends [
  infer D extends 0[],
  ...infer Rest extends 0[][],
]
  ? Count<T, D> extends [infer R extends 0[], infer N extends 0[]] ? QuotientDigits<R, Rest, `${Q}${N['length']}`> : never
  : StripZeros<Q> extends `${infer N extends number}` ? N : never
// Count<T, D>: [|T| mod |D|, floor(|T| / |D|)] as tuples, by repeated removal.
type Count<T extends 0[], D extends 0[], N extends 0[] = []> = T extends [...D, ...infer R extends 0[]]
  ? Count<R, D, [...N, 0]>
  : [T, N]

// ---------------------------------------------------------------------------------------------
// Decimal long multiplication, for products of any size

// Digits of a natural, least significant first: "784" → [4, 8, 7].
type DigitsOf<S extends string, Acc extends Digit[] = []> = S extends `${infer D extends Digit}${infer Rest}`
  ? DigitsOf<Rest, [D, ...Acc]>
  : Acc
// The number written by digits given least significant first: [4, 8, 7] → 784 (`number` if it
// does not round-trip, i.e. beyond 2^53).
type FromDigits<D extends Digit[], S extends string = ''> = D extends [infer H extends Digit, ...infer T extends Digit[]]
  ? FromDigits<T, `${H}${S}`>
  : StripZeros<S> extends `${infer N extends number}` ? N : number
type StripZeros<S extends string> = S extends `0${infer R}` ? (R extends '' ? S : StripZeros<R>) : S

// A two-digit number (0..99) as [units, tens].
type Split<N extends number> = `${N}` extends `${infer T extends Digit}${infer U extends Digit}` ? [U, T] : [N & Digit, 0]
// a·b + c for digits, a value in 0..89.
type DigitMulAdd<A extends Digit, B extends Digit, C extends Digit> = [...RepeatTup<TupOfDigit[A], B>, ...TupOfDigit[C]]['length'] & number
type RepeatTup<T extends 0[], N extends Digit, Acc extends 0[] = []> = N extends 0
  ? Acc
  : RepeatTup<T, [never, 0, 1, 2, 3, 4, 5, 6, 7, 8][N] & Digit, [...Acc, ...T]>
// a + b + c for digits (c a carry), a value in 0..19.
type DigitAdd<A extends Digit, B extends Digit, C extends Digit> = [...TupOfDigit[A], ...TupOfDigit[B], ...TupOfDigit[C]]['length'] & number

// Sum of two digit lists with a carry.
type AddDigits<A extends Digit[], B extends Digit[], C extends Digit = 0, Acc extends Digit[] = []> = [A, B] extends [[], []]
  ? C extends 0 ? Acc : [...Acc, C]
  : Split<DigitAdd<Head<A>, Head<B>, C>> extends [infer U extends Digit, infer T extends Digit]
    ? AddDigits<Tail<A>, Tail<B>, T, [...Acc, U]>
    : never
// A digit list times one digit, with a carry.
type MulDigit<A extends Digit[], B extends Digit, C extends Digit = 0, Acc extends Digit[] = []> = A extends [
  infer H extends Digit,
  ...infer T extends Digit[],
]
  ? Split<DigitMulAdd<H, B, C>> extends [infer U extends Digit, infer T2 extends Digit]
    ? MulDigit<T, B, T2, [...Acc, U]>
    : never
  : C extends 0 ? Acc : [...Acc, C]
// Long multiplication: A·b0 + 10·(A·rest), one digit of B per level (depth = digits of B).
type MulDigits<A extends Digit[], B extends Digit[]> = B extends [infer H extends Digit, ...infer T extends Digit[]]
  ? MulDigits<A, T> extends infer Rest extends Digit[]
    ? AddDigits<MulDigit<A, H>, [0, ...Rest]>
    : never
  : []
type Head<A extends Digit[]> = A extends [infer H extends Digit, ...Digit[]] ? H : 0
type Tail<A extends Digit[]> = A extends [Digit, ...infer T extends Digit[]] ? T : []

/** a · b for natural literals of any size (exact up to 2^53), else `number`. */
export type Times<A, B> = [IsNatural<A>, IsNatural<B>] extends [true, true]
  ? FromDigits<MulDigits<DigitsOf<`${A & number}`>, DigitsOf<`${B & number}`>>>
  : number

/** The product of a list of sizes, counting 'batch' as 1 (the runtime `sizeOf`); `number` if unknown. */
// Product<Dims>: a left fold of Times; one level per axis.
export type Product<Dims extends readonly unknown[], Acc = 1> = Dims extends readonly [infer H, ...infer T]
  ? Product<T, H extends 'batch' ? Acc : Times<Acc, H>>
  : Acc
