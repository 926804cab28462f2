/**
 * The `sbnkit` command: a table of subcommands, each a module exporting a `Command`.
 * Subcommand modules are imported lazily so `sbnkit check` does not load the trainer.
 */
import { pathToFileURL } from 'node:url'
import type { Command, Io } from './io.js'
import { exitCode, processIo } from './io.js'

const commands: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<Command> }>> = {
  start: { summary: 'the main job: train on MNIST, measure estimators, write report/', load: async () => (await import('./start.js')).start },
  demo: { summary: 'build a small SBN, check it and print its summary', load: async () => (await import('./demo.js')).demo },
  gradeval: { summary: 'measure gradient estimators against the exact gradient (MATH.md §7)', load: async () => (await import('./gradeval.js')).gradevalCommand },
  experiments: { summary: 'regenerate the recipe comparison of docs/experiments.md', load: async () => (await import('./experiments.js')).experiments },
  check: { summary: 'validate a model file and print its summary', load: async () => (await import('./check.js')).check },
  convert: { summary: 'rewrite a model into the {0,1} or the ±1 coding of binary states', load: async () => (await import('./convert.js')).convert },
  exact: { summary: 'exact expected loss (and --grad gradient) of a model on a dataset', load: async () => (await import('./exact.js')).exactCommand },
  sample: { summary: 'Monte Carlo: mean loss ± stderr, mode and ensemble accuracy', load: async () => (await import('./sample.js')).sampleCommand },
  bench: { summary: 'throughput of the compiled interpreter on a model file', load: async () => (await import('./bench.js')).benchCommand },
  predict: { summary: 'predictions of a model on inputs without labels', load: async () => (await import('./predict.js')).predictCommand },
  eval: { summary: 'loss and accuracy of a model on MNIST, Fashion-MNIST or a dataset file', load: async () => (await import('./eval.js')).evalCommand },
  export: { summary: 'write a model as a packed 1-bit file or an ONNX graph', load: async () => (await import('./export.js')).exportCommand },
  train: { summary: 'train a model file or a preset on MNIST, Fashion-MNIST or a dataset file', load: async () => (await import('./train.js')).trainCommand },
}

const usage = (): string =>
  [
    'usage: sbnkit <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'Run `sbnkit <command> --help` for the options of a command.',
    '',
  ].join('\n')

export const main = async (argv: readonly string[], io: Io = processIo): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    io.out(usage())
    return name === undefined ? exitCode.badInput : exitCode.ok
  }
  const command = commands[name]
  if (command === undefined) {
    io.err(`sbnkit: unknown command "${name}"; expected one of ${Object.keys(commands).join(', ')}\n`)
    return exitCode.badInput
  }
  return (await command.load())(rest, io)
}

// Run when executed directly (tsx src/cli/main.ts …), not when imported.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2))
}
