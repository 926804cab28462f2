/** The in-process `sbnkit …` runner of the CLI tests: exit code and output, with paths made portable. */
import type { Io } from '../../src/cli/io.js'
import { memoryIo } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'

export interface CliRun {
  readonly code: number
  readonly out: string
  readonly err: string
}

/**
 * A runner whose outputs pass through `portable` (e.g. a temporary directory shown as `<tmp>`),
 * so snapshots do not depend on the machine.
 */
export const cliRunner = (portable: (s: string) => string) =>
  async (argv: readonly string[], io: Io & { readonly stdout: () => string; readonly stderr: () => string } = memoryIo()): Promise<CliRun> => {
    const code = await main(argv, io)
    return { code, out: portable(io.stdout()), err: portable(io.stderr()) }
  }
