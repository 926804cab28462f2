/** Presets: parsing, the shapes and kinds of MATH.md §1 (real input and head, binary inside), noises. */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Binarize, Network } from '../../src/dsl/node.js'
import { uniform } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { describePreset, parsePreset, presetLayout, presetNetwork, vggPreset } from '../../src/train/presets.js'
import { paramKinds } from '../../src/train/routing.js'
import { right } from './loopFixtures.js'

const sites = (net: Network): Binarize[] => topoOrder(Object.values(net.outputs)).filter((n): n is Binarize => n._tag === 'Binarize')

describe('parsePreset', () => {
  it('reads mlp widths and conv channels', () => {
    expect(parsePreset('mlp:512,512')).toEqual(E.right({ kind: 'mlp', hidden: [512, 512] }))
    expect(parsePreset('mlp:64')).toEqual(E.right({ kind: 'mlp', hidden: [64] }))
    expect(parsePreset('conv')).toEqual(E.right({ kind: 'conv', channels: [16, 32] }))
    expect(parsePreset('conv:4,8')).toEqual(E.right({ kind: 'conv', channels: [4, 8] }))
  })
  it('rejects anything else with the expected forms', () => {
    for (const s of ['mlp', 'mlp:', 'mlp:0', 'mlp:5,x', 'mlp:1.5', 'conv:4', 'conv:1,2,3', 'resnet', 'mlp:4:5'])
      expect(parsePreset(s)).toEqual(E.left(`expected mlp:W1,W2,… (hidden widths ≥ 1), conv[:C1,C2], vgg-small[:M] or vgg-mnist[:M] (M a width multiplier > 0), found "${s}"`))
  })
})

describe('presetNetwork', () => {
  it('mlp 784→512→512→10: real input and head, binary weights and activations (MATH.md §1)', () => {
    const net = right(presetNetwork({ kind: 'mlp', hidden: [512, 512] }, { inputShape: [784], classes: 10, key: key(0) }))
    expect(net.outputs['output']!.type.shape).toEqual(['batch', 10])
    expect(paramKinds(net)).toEqual({ 'layer1.W': 'latent', 'layer1.b': 'real', 'layer2.W': 'latent', 'layer2.b': 'real', 'head.W': 'real', 'head.b': 'real' })
    expect(sites(net).map((s) => `${s.site} ${s.noise.family}`)).toEqual(['layer1.W logistic', 'layer1.act logistic', 'layer2.W logistic', 'layer2.act logistic'])
    expect(net.params['layer1.W']!.length).toBe(784 * 512)
    expect(describePreset({ kind: 'mlp', hidden: [512, 512] }, { inputShape: [784], classes: 10 })).toBe('mlp 784→512→512→10')
    expect(presetLayout({ kind: 'mlp', hidden: [1] })).toBe('flat')
  })

  it('the recipe weight noise is used for every weight site (bnn: uniform(1))', () => {
    const net = right(presetNetwork({ kind: 'mlp', hidden: [8] }, { inputShape: [4], classes: 2, key: key(0), weightNoise: uniform(1), activation: uniform(1) }))
    expect(sites(net).map((s) => `${s.site} ${s.noise.family}`)).toEqual(['layer1.W uniform', 'layer1.act uniform'])
  })

  it('conv for 28×28: two binary conv blocks, a real head; optional batch norm in inference mode', () => {
    const net = right(presetNetwork({ kind: 'conv', channels: [16, 32] }, { inputShape: [1, 28, 28], classes: 10, key: key(0), batchNorm: true }))
    expect(presetLayout({ kind: 'conv', channels: [16, 32] })).toBe('nchw')
    expect(paramKinds(net)).toMatchObject({ 'conv1.W': 'latent', 'conv2.W': 'latent', 'head.W': 'real', 'conv1.bn.mean': 'state' })
    expect(net.params['head.W']!.length).toBe(32 * 6 * 6 * 10)
    expect(sites(net).map((s) => s.site)).toEqual(['conv1.W', 'conv1.act', 'conv2.W', 'conv2.act'])
    const bns = topoOrder(Object.values(net.outputs)).filter((n) => n._tag === 'BatchNorm')
    expect(bns.map((b) => (b._tag === 'BatchNorm' ? b.mode : ''))).toEqual(['inference', 'inference'])
  })

  it('is a pure function of its key', () => {
    const a = right(presetNetwork({ kind: 'mlp', hidden: [3] }, { inputShape: [2], classes: 2, key: key(5) }))
    const b = right(presetNetwork({ kind: 'mlp', hidden: [3] }, { inputShape: [2], classes: 2, key: key(5) }))
    const c = right(presetNetwork({ kind: 'mlp', hidden: [3] }, { inputShape: [2], classes: 2, key: key(6) }))
    expect(a.params).toEqual(b.params)
    expect(a.params).not.toEqual(c.params)
  })
})

describe('VGG-style presets', () => {
  it('parses vgg-small and vgg-mnist with a width multiplier', () => {
    expect(parsePreset('vgg-small')).toEqual(E.right({ kind: 'vgg', name: 'vgg-small', stages: [128, 256, 512], fc: [1024, 1024] }))
    expect(parsePreset('vgg-small:0.25')).toEqual(E.right({ kind: 'vgg', name: 'vgg-small:0.25', stages: [32, 64, 128], fc: [256, 256] }))
    expect(parsePreset('vgg-mnist')).toEqual(E.right({ kind: 'vgg', name: 'vgg-mnist', stages: [32, 64], fc: [512] }))
    for (const s of ['vgg-small:0', 'vgg-small:-1', 'vgg-small:x', 'vgg-mnist:1:2', 'vgg'])
      expect(E.isLeft(parsePreset(s))).toBe(true)
  })

  it('vgg-small on 3×32×32: six binary convs, three pools, two binary FC layers, a real head (MATH.md §1)', () => {
    const p = vggPreset('vgg-small', 1 / 16)
    const net = right(presetNetwork(p, { inputShape: [3, 32, 32], classes: 10, key: key(0), batchNorm: true }))
    expect(p).toMatchObject({ stages: [8, 16, 32], fc: [64, 64] })
    expect(sites(net).filter((s) => s.site.endsWith('.W')).map((s) => s.site)).toEqual(['conv1.W', 'conv2.W', 'conv3.W', 'conv4.W', 'conv5.W', 'conv6.W', 'fc1.W', 'fc2.W'])
    expect(paramKinds(net)).toMatchObject({ 'conv1.W': 'latent', 'fc2.W': 'latent', 'head.W': 'real', 'conv6.bn.mean': 'state' })
    // 32 → 16 → 8 → 4 after three pools: fc1 reads 32 channels × 4 × 4.
    expect(net.params['fc1.W']!.length).toBe(32 * 4 * 4 * 64)
    expect(describePreset(p, { inputShape: [3, 32, 32], classes: 10 })).toBe('vgg-small:0.0625 3×32×32 → 2×8C3–MP–2×16C3–MP–2×32C3–MP–64FC–64FC–10')
    expect(presetLayout(p)).toBe('nchw')
  })

  it('vgg-mnist on 1×28×28: 28 → 14 → 7 after two pools', () => {
    const net = right(presetNetwork(vggPreset('vgg-mnist', 0.125), { inputShape: [1, 28, 28], classes: 10, key: key(0) }))
    expect(net.params['fc1.W']!.length).toBe(8 * 7 * 7 * 64)
    expect(net.outputs['output']!.type.shape).toEqual(['batch', 10])
  })
})
