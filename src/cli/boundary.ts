/**
 * The CLI's one error boundary, wrapped around every command by `main`:
 *
 * - what a command writes passes through `escapeControls`, so a label or a file name holding
 *   control characters cannot drive the terminal (progress bars keep their `\r` and `\x1b[K`);
 * - an error line gets the one prefix `sbnkit <command>: `, and a usage block written after an
 *   error is cut to `see sbnkit <command> --help` (an unknown flag gets a did-you-mean);
 * - a thrown error is sorted: a file-system failure the user caused (a folder that is a file, a
 *   read-only disk) or memory the input asked for is exit 2 with one line; anything else is our
 *   bug: exit 1, "internal error, please report", with the stack only under `--debug`.
 */
import type { Io } from './io.js'
import { exitCode } from './io.js'
import { didYouMean } from './suggest.js'

// ---------------------------------------------------------------------------------------------
// Escaping

/** C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides. */
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
const progressEscape = '\u001b[K'

/** Control characters written as `\uXXXX` (valid inside a JSON string too). */
export const escapeControls = (text: string): string => {
  const head = text.startsWith('\r') ? '\r' : ''
  const body = head === '' ? text : text.slice(1)
  return head + body.split(progressEscape).map((part) => part.replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join(progressEscape)
}

// ---------------------------------------------------------------------------------------------
// Messages

const usageStart = /\n\n(?:usage: (?:sbnkit|npm start)\b)/

/** The flags a usage text lists (`--samples`, `--seed`, …). */
export const flagsOf = (usage: string): string[] => [...new Set([...usage.matchAll(/(?:^|[\s[(|])(--[a-z][\w-]*)/g)].map((m) => m[1]!))]

/** The parser's sentence for an unknown flag, rewritten with a suggestion from the usage text. */
const unknownOption = (line: string, usage: string): string =>
  line.replace(/Unknown option '(-{1,2}[^']*)'\..*$/s, (_, flag: string) => `unknown option ${flag}${didYouMean(flag.split('=')[0]!, flagsOf(usage))}`)

/**
 * One error write of command `name`, made short and uniform: the prefix `sbnkit <name>: ` on its
 * first line (in place of a bare `<name>: `), and a trailing usage block replaced by a pointer to
 * the help.
 */
export const shortError = (name: string, text: string): string => {
  const cut = text.search(usageStart)
  const usage = cut < 0 ? '' : text.slice(cut)
  let message = cut < 0 ? text : `${text.slice(0, cut)}\n`
  if (message.startsWith(`${name}: `)) message = `sbnkit ${message}`
  if (usage !== '') message = `${unknownOption(message.trimEnd(), usage)}\n(see sbnkit ${name} --help)\n`
  return message
}

/** The Io a command sees: escaped output, uniform error lines. */
export const boundaryIo = (io: Io, name: string): Io => ({
  ...io,
  out: (text) => io.out(escapeControls(text)),
  err: (text) => io.err(escapeControls(shortError(name, text))),
})

// ---------------------------------------------------------------------------------------------
// Thrown errors

/** File-system failures a user causes with a path: a file where a folder should be, a read-only disk. */
const userFsCodes: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
}

/** Memory the input asked for and the machine refused (the budget should have caught it first). */
const allocationFailure = /Array buffer allocation failed|Invalid typed array length|Invalid array length|Invalid string length|Array buffer length/

/** Turns what a command threw into one line on stderr and an exit code. */
export const reportThrown = (io: Io, name: string, err: unknown, debug: boolean): number => {
  const prefix = name === '' ? 'sbnkit' : `sbnkit ${name}`
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined
  const reason = code === undefined ? undefined : userFsCodes[code]
  if (reason !== undefined) {
    const path = (err as { path?: unknown }).path
    io.err(escapeControls(`${prefix}: ${typeof path === 'string' ? `${path}: ` : ''}cannot ${(err as { syscall?: unknown }).syscall ?? 'access'} (${reason})\n`))
    return exitCode.badInput
  }
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof RangeError && allocationFailure.test(message)) {
    io.err(escapeControls(`${prefix}: the input asks for more memory than this machine can give (${message}); use smaller sizes or counts\n`))
    return exitCode.badInput
  }
  const stack = debug && err instanceof Error && err.stack !== undefined ? `\n${err.stack}` : ''
  io.err(escapeControls(`${prefix}: internal error, please report (a bug in sbnkit, not in your input): ${message}${stack}\n${debug ? '' : '(run with --debug for the stack trace)\n'}`))
  return exitCode.failed
}

/** Runs a command inside the boundary. */
export const bounded = async (io: Io, name: string, debug: boolean, body: (io: Io) => Promise<number>): Promise<number> => {
  try {
    return await body(boundaryIo(io, name))
  } catch (err) {
    return reportThrown(io, name, err, debug)
  }
}
