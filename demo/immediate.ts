/**
 * `setImmediate` for a Web Worker: the training loop yields between steps with it (so a Node
 * SIGINT handler can run); a page has no such global. A message on a channel is its closest
 * browser twin (no 4 ms clamp, unlike setTimeout). Called by worker.ts before training.
 */
export const installSetImmediate = (): void => {
  const g = globalThis as { setImmediate?: (f: () => void) => void }
  if (g.setImmediate !== undefined) return
  const channel = new MessageChannel()
  const queue: (() => void)[] = []
  channel.port1.onmessage = () => queue.shift()?.()
  g.setImmediate = (f) => {
    queue.push(f)
    channel.port2.postMessage(0)
  }
}
