/**
 * The brand's one door. `Checked<N>` says "typecheck accepted this network"; it is minted here
 * and only here, by the two things allowed to: `typecheck` (after validating) and the
 * type-preserving rewrites of `rewrite.ts` (a checked network whose nodes keep their types stays
 * valid). test/architecture.test.ts fails if any other module imports `brand`, or if a cast to
 * `Checked` appears in any other file.
 */
import type { Checked, Network } from './node.js'

/** Brands a network as checked; sound only for typecheck's result and for type-preserving rewrites. */
export const brand = <N extends Network>(net: N): Checked<N> => net as Checked<N>
