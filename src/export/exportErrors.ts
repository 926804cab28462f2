/**
 * Errors of exporting a network and of reading a packed file: values with one renderer, like
 * `DslError` and `RunError`. Each says where (a layer of the network, or a byte or field of the
 * file), what was expected and what was found.
 */

export type ExportError =
  /** The network has a shape the exporters cannot express (docs/export.md, "What exports"). */
  | { readonly _tag: 'NotExportable'; readonly where: string; readonly expected: string; readonly found: string }
  /** A packed file that cannot be read: truncated, damaged, or of another format or version. */
  | { readonly _tag: 'BadPackedFile'; readonly where: string; readonly expected: string; readonly found: string }
  /** A manifest field that does not decode: its JSON path and the decoder's message. */
  | { readonly _tag: 'BadManifest'; readonly path: string; readonly message: string }

/** An error about the network at `where` (a path of layer labels). */
export const notExportable = (where: string, expected: string, found: string): ExportError =>
  ({ _tag: 'NotExportable', where, expected, found })

/** An error about the packed file at `where` (a byte offset or a manifest field). */
export const badPackedFile = (where: string, expected: string, found: string): ExportError =>
  ({ _tag: 'BadPackedFile', where, expected, found })

/**
 * One line per error; `file` names the packed file or the model.
 * @example drawExportError(badPackedFile('byte 0', 'the magic "SBNK"', '"PK\\x03\\x04"'), 'm.sbn')
 * // 'm.sbn: byte 0: expected the magic "SBNK", found "PK\x03\x04"'
 */
export const drawExportError = (e: ExportError, file?: string): string => {
  const prefix = file === undefined ? '' : `${file}: `
  switch (e._tag) {
    case 'NotExportable':
      return `${prefix}cannot export ${e.where}: expected ${e.expected}, found ${e.found}`
    case 'BadPackedFile':
      return `${prefix}${e.where}: expected ${e.expected}, found ${e.found}`
    case 'BadManifest':
      return `${prefix}${e.path}: ${e.message}`
  }
}
