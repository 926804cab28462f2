/**
 * Yielding to the host's event loop between training steps, so that pending events (a SIGINT
 * handler in Node, a message to a worker in a page) run. Portable: the fastest macrotask the host
 * has, found by feature detection rather than by naming a Node global: `setImmediate` (Node),
 * else a `MessageChannel` message (pages and workers: unlike `setTimeout(0)`, not clamped to
 * 4 ms when nested), else `setTimeout`.
 */

type Schedule = (run: () => void) => void

interface Host {
  readonly setImmediate?: (run: () => void) => unknown
  readonly MessageChannel?: new () => {
    readonly port1: { onmessage: (() => void) | null; close: () => void }
    readonly port2: { postMessage: (message: null) => void; close: () => void }
  }
}

// Read through a structural type: the lib types describe Node's globals, not the host's.
const host = globalThis as unknown as Host

const viaChannel = (Channel: NonNullable<Host['MessageChannel']>): Schedule => (run) => {
  const channel = new Channel()
  channel.port1.onmessage = () => {
    channel.port1.close()
    channel.port2.close()
    run()
  }
  channel.port2.postMessage(null)
}

const schedule: Schedule =
  host.setImmediate !== undefined
    ? (run) => void host.setImmediate!(run)
    : host.MessageChannel !== undefined
      ? viaChannel(host.MessageChannel)
      : (run) => void setTimeout(run, 0)

/**
 * A promise that resolves on the host's next macrotask.
 * @example await tick() // pending signal handlers and messages have run
 */
export const tick = (): Promise<void> => new Promise((resolve) => schedule(resolve))
