import { defineConfig } from 'vitest/config'

// `npm run test:onnx`: the ONNX export against onnxruntime-node, installed in this folder only.
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/export/onnx/*.onnx-test.ts'],
    testTimeout: 120_000,
    pool: 'forks',
  },
})
