/**
 * The doc-example convention of test/docs: a doc's ```ts block after `<!-- example: <name> -->`
 * is, dedented, the `// example: <name>` … `// end example` region of the test file that runs it,
 * and the block's imports are among the test file's.
 */
import { readFileSync } from 'node:fs'

export interface DocExamples {
  /** The test file's own text. */
  readonly self: string
  /** The ```ts block of example `name` in the doc. */
  readonly docBlock: (name: string) => string
  /** The dedented region of example `name` in the test file. */
  readonly region: (name: string) => string
}

/** The examples of the doc at `docUrl`, run by the test file at `selfUrl` (its `import.meta.url`). */
export const docExamples = (docUrl: URL, selfUrl: string): DocExamples => {
  const doc = readFileSync(docUrl, 'utf8')
  const self = readFileSync(new URL(selfUrl), 'utf8')
  const docName = docUrl.pathname.split('/docs/').pop() ?? docUrl.pathname
  return {
    self,
    docBlock: (name) => {
      const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(doc)
      if (m === null) throw new Error(`docs/${docName} has no ts block for example ${name}`)
      return m[1]!
    },
    region: (name) => {
      const m = new RegExp(`\\n( *)// example: ${name}\\n([\\s\\S]*?)\\n *// end example`).exec(self)
      if (m === null) throw new Error(`no region ${name}`)
      const indent = m[1]!.length
      return m[2]!.split('\n').map((l) => l.slice(indent)).join('\n')
    },
  }
}

/** Every named import of `text`, as "name from module". */
export const importsOf = (text: string): string[] =>
  [...text.matchAll(/import (?:type )?\{([^}]*)\} from '([^']+)'/g)].flatMap((m) =>
    m[1]!.split(',').map((n) => n.trim()).filter((n) => n !== '').map((n) => `${n} from ${m[2]!}`))

/**
 * Example `name` side by side: the doc block's body without its imports and the test file's
 * region (both trimmed; equal when the doc shows the tested code), and the block's named imports
 * that the test file does not import (none when the doc's imports are the ones tested).
 */
export const exampleAgainstTest = (ex: DocExamples, name: string): { doc: string; test: string; missingImports: string[] } => {
  const block = ex.docBlock(name)
  const mine = new Set(importsOf(ex.self))
  return {
    doc: block.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim(),
    test: ex.region(name).trim(),
    missingImports: importsOf(block).filter((i) => !mine.has(i)),
  }
}

