/**
 * The one sentence for a file-system failure, shared by every module that reads or writes files.
 * Portable (no Node built-ins), so modules that only name such failures stay browser-safe.
 */

/** A short reason for a file-system failure: a sentence for the common codes, else the code. */
export const fsReason = (err: unknown): string => {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = String((err as { code: unknown }).code)
    const known: Readonly<Record<string, string>> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'it is a directory',
      ENOSPC: 'no space left on the device',
      EROFS: 'read-only file system',
    }
    return known[code] ?? code
  }
  return err instanceof Error ? err.message : String(err)
}
