/**
 * The `sbnkit` command: a table of subcommands, each a module exporting a `Command`.
 * Subcommand modules are imported lazily so `sbnkit check` does not load the trainer.
 *
 * Every command runs inside one error boundary (`boundary.ts`): user mistakes are one drawn line
 * and exit 2, our bugs one line "internal error, please report" and exit 1 (the stack only with
 * `--debug`). Global flags, accepted anywhere before `--`: `--debug`, `--max-memory SIZE`,
 * `--no-timing`; and `--version`, `help [command]`.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import type { Budget } from '../interpreters/budget.js'
import { parseMaxMemory } from './args.js'
import { bounded, escapeControls } from './boundary.js'
import type { Command, Io } from './io.js'
import { exitCode, processIo } from './io.js'
import { didYouMean } from './suggest.js'

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
    '       sbnkit help <command> | sbnkit --version',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'global options (anywhere before --):',
    '  --max-memory SIZE  most memory a command may plan to use (default: half of this machine\'s)',
    '  --no-timing        leave wall-clock fields out of JSON results (byte-reproducible output)',
    '  --debug            print the stack trace of an internal error',
    '',
    'Run `sbnkit <command> --help` for the options of a command.',
    'exit status: 0 ok; 2 bad input, flags or settings (a run that diverged, a full disk); 1 a bug of sbnkit.',
    '',
  ].join('\n')

/** The package version, read from package.json beside src/ or dist/. */
export const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { readonly version?: unknown }
  return String(pkg.version)
}

interface Globals {
  readonly rest: readonly string[]
  readonly debug: boolean
  readonly timing: boolean
  readonly budget: Budget | undefined
}

/** Takes the global flags out of argv (they may appear anywhere before `--`). */
const globals = (argv: readonly string[]): E.Either<string, Globals> => {
  const rest: string[] = []
  let debug = false
  let timing = true
  let budget: Budget | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      rest.push(...argv.slice(i))
      break
    }
    if (a === '--debug') debug = true
    else if (a === '--no-timing') timing = false
    else if (a === '--max-memory' || a.startsWith('--max-memory=')) {
      const value = a === '--max-memory' ? argv[++i] : a.slice('--max-memory='.length)
      if (value === undefined) return E.left('--max-memory expects a size such as 4GB')
      const b = parseMaxMemory(value)
      if (E.isLeft(b)) return b
      budget = b.right
    } else rest.push(a)
  }
  return E.right({ rest, debug, timing, budget })
}

export const main = async (argv: readonly string[], io: Io = processIo): Promise<number> => {
  const g = globals(argv)
  if (E.isLeft(g)) {
    io.err(escapeControls(`sbnkit: ${g.left}\n`))
    return exitCode.badInput
  }
  const { debug, timing, budget } = g.right
  const world: Io = { ...io, timing, ...(budget === undefined ? {} : { budget }) }
  let [name, ...rest] = g.right.rest
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`sbnkit ${version()}\n`)
    return exitCode.ok
  }
  if (name === 'help' && rest[0] !== undefined) [name, rest] = [rest[0], ['--help']]
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage())
    return name === undefined ? exitCode.badInput : exitCode.ok
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) {
    const what = name.startsWith('-') ? 'option' : 'command'
    io.err(escapeControls(`sbnkit: unknown ${what} ${JSON.stringify(name)}${didYouMean(name, Object.keys(commands))}\n(see sbnkit --help for the commands)\n`))
    return exitCode.badInput
  }
  const commandName = name
  return bounded(world, commandName, debug, async (safe) => (await command.load())(rest, safe))
}

// Run when executed directly (tsx src/cli/main.ts …), not when imported.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2))
}
