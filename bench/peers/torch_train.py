#!/usr/bin/python3
"""The PyTorch peer of `npm run bench:train`: one training step of sbnkit's presets, written with
torch.autograd.Function, timed on CPU with a fixed number of threads (default 1).

Usage (Debian's python3-torch):
    /usr/bin/python3 bench/peers/torch_train.py --preset mlp:512,512 [--threads 1] [--rounds 10] [--json]
    /usr/bin/python3 bench/peers/torch_train.py --preset conv:16,32 --json
    /usr/bin/python3 bench/peers/torch_train.py --preset vgg-mnist:1 --batch 256 --json

The same networks and semantics as sbnkit's step (src/train/presets.ts with --batch-norm, the
matched straight-through estimator, mirror descent on the latent weights, plain SGD):

- binary weights: w = +1 with probability sigmoid(eta), else -1, drawn once per batch (logistic(1)
  weight noise); the gradient of w passes to eta unchanged (identity pass-through);
- before every binary activation a batch norm in training mode (batch statistics, affine, running
  statistics updated with momentum 0.1, eps 1e-5);
- binary activations: x = +1 with probability sigmoid(a), else -1 (logistic(1)), backward by the
  matched ST factor dE[x]/da = 2 sigmoid'(a);
- a real linear head (with bias) under softmax cross-entropy (mean over the batch), SGD lr 0.01 on
  every parameter (eta, biases, batch-norm gains, head).

mlp:W1,W2,...: x [B, 784] -> per width: dense (binary W, bias) -> BN -> binarize -> head.
conv:C1,C2 on [B, 1, 28, 28]: conv C1 3x3 pad 1 (binary kernel, bias) -> max-pool 2 -> BN -> binarize;
conv C2 3x3 no pad -> max-pool 2 -> BN -> binarize; flatten -> head. Pooling acts on the real
pre-activations, as in the preset.
vgg-mnist[:M] on [B, 1, 28, 28] (2x32C3-MP-2x64C3-MP-512FC-10, every width scaled by M and rounded,
at least 1): per stage two convs 3x3 padding 1 (binary kernel, bias), the second followed by
max-pool 2, each -> BN -> binarize; the first conv pads the image with 0, later ones pad their
+-1 inputs with -1 (F.pad, then an unpadded conv); flatten -> per FC width: dense (binary W, bias)
-> BN -> binarize; -> head.

Dense products run as 1x1 convolutions on oneDNN by default (`--dense matmul` for BLAS; see
`product`). Inputs are random pixels p/255 scaled to [-1, 1] and random labels (a pool of 8 batches, cycled).
Timing: a warm-up (at least 5 steps and `--warmup` seconds, default 2), then `rounds` rounds
(default 15) of `steps` steps; each round's mean ms per step is one sample; prints median, min and
max over rounds (wall, and CPU time of the process as `cpuMsPerStep`, which a loaded machine
disturbs less), and the minor page faults per timed step (first touches of fresh memory).

Why the figure moved 12-42 ms between runs (measured 2026-12-07): PyTorch's CPU allocator takes
every activation from glibc's malloc, and a 64x16x28x28 activation (3.2 MB) is above glibc's
default mmap threshold, so whether a step's tensors come from fresh pages (a page fault per
4 KiB on first touch) depends on the malloc state the process happened to reach. Under
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824 (memory
stays mapped) the step was 2-2.6x faster and steady. `faultsPerStep` in the report shows which
regime a run was in; `bench/peers/torch.ts --tunables` runs both contenders with that setting.
`--flush-denormal` sets torch.set_flush_denormal(True) (denormals were not the cause: see docs). `--json` prints exactly one object on stdout:
{"preset", "batch", "threads", "msPerStep": {"median", "min", "max"}, "rounds", "steps", "torch"}.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as err:  # a clear message, not a trace: the runner shows it
    sys.stderr.write(f"torch_train.py: PyTorch is not importable ({err}); install Debian's python3-torch\n")
    sys.exit(2)


def signs(mask):
    """+1 where mask, else -1, as float32 (one pass each: faster than torch.where with scalars)."""
    return mask.float().mul_(2.0).sub_(1.0)


class BernoulliWeight(torch.autograd.Function):
    """w = +1 with probability sigmoid(eta), else -1; backward: identity to eta (mirror descent)."""

    @staticmethod
    def forward(ctx, eta):
        return signs(torch.rand_like(eta) < torch.sigmoid(eta))

    @staticmethod
    def backward(ctx, grad):
        return grad


class LogisticBinarize(torch.autograd.Function):
    """x = +1 with probability sigmoid(a), else -1; backward: the matched ST factor 2 sigmoid'(a)."""

    @staticmethod
    def forward(ctx, a):
        s = torch.sigmoid(a)
        ctx.save_for_backward(s)
        return signs(torch.rand_like(a) < s)

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return grad * (2.0 * s * (1.0 - s))


def uniform(shape, low, high):
    return (torch.rand(shape) * (high - low) + low).requires_grad_()


class BatchNorm:
    """Batch norm in training mode with running statistics (as the preset's `.bn` layers)."""

    def __init__(self, channels):
        self.gamma = torch.ones(channels, requires_grad=True)
        self.beta = torch.zeros(channels, requires_grad=True)
        self.mean = torch.zeros(channels)
        self.var = torch.ones(channels)

    def __call__(self, a):
        return F.batch_norm(a, self.mean, self.var, self.gamma, self.beta, training=True, momentum=0.1, eps=1e-5)

    def params(self):
        return [self.gamma, self.beta]


def head(features, classes):
    bound = (6.0 / (features + classes)) ** 0.5  # glorot, as sbnkit's real weights
    return uniform((classes, features), -bound, bound), torch.zeros(classes, requires_grad=True)


def product(x, w, via):
    """x [B, K] times w [N, K] (PyTorch's Linear layout): through BLAS (`matmul`), or as a 1x1
    convolution, which PyTorch runs on oneDNN. Debian's python3-torch links the reference BLAS
    (BLAS_INFO=generic, libblas3) unless an optimised libblas.so.3 alternative (OpenBLAS) is
    installed; there oneDNN is about 10x faster on these shapes."""
    if via == "matmul":
        return x @ w.t()
    # reshape, not indexing: the backward of a view is a reshape, of an index a zero-filled scatter
    return F.conv2d(x.reshape(*x.shape, 1, 1), w.reshape(*w.shape, 1, 1)).reshape(x.shape[0], w.shape[0])


class Mlp:
    def __init__(self, hidden, inputs=784, classes=10, via="onednn"):
        self.via = via
        self.layers = []
        width = inputs
        for units in hidden:
            self.layers.append((uniform((units, width), -1.0, 1.0), torch.zeros(units, requires_grad=True), BatchNorm(units)))
            width = units
        self.head = head(width, classes)
        self.input_shape = (inputs,)

    def __call__(self, x):
        h = x
        for eta, b, bn in self.layers:
            h = LogisticBinarize.apply(bn(product(h, BernoulliWeight.apply(eta), self.via) + b))
        w, b = self.head
        return product(h, w, self.via) + b

    def params(self):
        return [p for eta, b, bn in self.layers for p in [eta, b, *bn.params()]] + list(self.head)


class Conv:
    def __init__(self, c1, c2, classes=10, via="onednn"):
        self.via = via
        self.k1 = uniform((c1, 1, 3, 3), -1.0, 1.0)
        self.b1 = torch.zeros(c1, requires_grad=True)
        self.bn1 = BatchNorm(c1)
        self.k2 = uniform((c2, c1, 3, 3), -1.0, 1.0)
        self.b2 = torch.zeros(c2, requires_grad=True)
        self.bn2 = BatchNorm(c2)
        self.head = head(c2 * 6 * 6, classes)
        self.input_shape = (1, 28, 28)

    def __call__(self, x):
        h = F.conv2d(x, BernoulliWeight.apply(self.k1), self.b1, padding=1)
        h = LogisticBinarize.apply(self.bn1(F.max_pool2d(h, 2)))
        h = F.conv2d(h, BernoulliWeight.apply(self.k2), self.b2)
        h = LogisticBinarize.apply(self.bn2(F.max_pool2d(h, 2)))
        w, b = self.head
        return product(h.flatten(1), w, self.via) + b

    def params(self):
        return [self.k1, self.b1, *self.bn1.params(), self.k2, self.b2, *self.bn2.params(), *self.head]


class Vgg:
    def __init__(self, stages, fc, classes=10, via="onednn"):
        self.via = via
        self.convs = []
        channels, side, layer = 1, 28, 0
        for width in stages:
            for pool in (False, True):
                layer += 1
                # The first conv reads the image (padding 0); later ones read +-1 units (padding -1).
                pad = 0.0 if layer == 1 else -1.0
                self.convs.append((uniform((width, channels, 3, 3), -1.0, 1.0), torch.zeros(width, requires_grad=True), BatchNorm(width), pad, pool))
                channels = width
            side //= 2
        features = channels * side * side
        self.fcs = []
        for units in fc:
            self.fcs.append((uniform((units, features), -1.0, 1.0), torch.zeros(units, requires_grad=True), BatchNorm(units)))
            features = units
        self.head = head(features, classes)
        self.input_shape = (1, 28, 28)

    def __call__(self, x):
        h = x
        for k, b, bn, pad, pool in self.convs:
            w = BernoulliWeight.apply(k)
            h = F.conv2d(h, w, b, padding=1) if pad == 0.0 else F.conv2d(F.pad(h, (1, 1, 1, 1), value=pad), w, b)
            # Pool the real pre-activations, then binarize (as the preset).
            h = LogisticBinarize.apply(bn(F.max_pool2d(h, 2) if pool else h))
        h = h.flatten(1)
        for eta, b, bn in self.fcs:
            h = LogisticBinarize.apply(bn(product(h, BernoulliWeight.apply(eta), self.via) + b))
        w, b = self.head
        return product(h, w, self.via) + b

    def params(self):
        return ([p for k, b, bn, _, _ in self.convs for p in [k, b, *bn.params()]]
                + [p for eta, b, bn in self.fcs for p in [eta, b, *bn.params()]] + list(self.head))


VGG_MNIST = ([32, 64], [512])


def build(preset, via):
    kind, _, arg = preset.partition(":")
    try:
        widths = [int(s) for s in arg.split(",")] if arg else []
    except ValueError:
        widths = None
    if kind == "mlp" and widths and all(w >= 1 for w in widths):
        return Mlp(widths, via=via)
    if kind == "vgg-mnist":
        try:
            m = float(arg) if arg else 1.0
        except ValueError:
            m = 0.0
        if 0 < m <= 64:
            # Math.round of src/train/presets.ts (half up), at least 1.
            scale = lambda n: max(1, math.floor(n * m + 0.5))
            return Vgg([scale(n) for n in VGG_MNIST[0]], [scale(n) for n in VGG_MNIST[1]], via=via)
    if kind == "conv" and (widths == [] or (widths is not None and len(widths) == 2 and all(w >= 1 for w in widths))):
        return Conv(*(widths or [16, 32]), via=via)
    sys.stderr.write(f'torch_train.py: --preset: expected mlp:W1,W2,..., conv[:C1,C2] or vgg-mnist[:M], found "{preset}"\n')
    sys.exit(2)


def blas_info():
    """The BLAS this PyTorch was built against, from its build configuration (e.g. 'generic')."""
    config = torch.__config__.show()
    at = config.find("BLAS_INFO=")
    return config[at + 10:].split(",")[0].strip() if at >= 0 else "unknown"


def main():
    ap = argparse.ArgumentParser(description="PyTorch peer of npm run bench:train")
    ap.add_argument("--preset", default="mlp:512,512")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up steps (at least 5 steps)")
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True)")
    ap.add_argument("--steps", type=int, default=0, help="steps per round (default: about 0.5 s of steps)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dense", choices=["onednn", "matmul"], default="onednn",
                    help="dense products as 1x1 convolutions on oneDNN (default) or through BLAS")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--batch-norm", action="store_true", help="accepted for symmetry with bench:train (batch norm is always on)")
    a = ap.parse_args()
    if a.threads < 1 or a.batch < 1 or a.rounds < 1 or a.steps < 0:
        sys.stderr.write("torch_train.py: --threads, --batch and --rounds must be >= 1, --steps >= 0\n")
        sys.exit(2)
    torch.set_num_threads(a.threads)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    try:
        torch.set_num_interop_threads(a.threads)
    except RuntimeError:
        pass  # already set in this process
    torch.manual_seed(a.seed)
    net = build(a.preset, a.dense)
    params = net.params()
    batches = [
        ((torch.randint(0, 256, (a.batch, *net.input_shape)).float() / 255.0) * 2.0 - 1.0, torch.randint(0, 10, (a.batch,)))
        for _ in range(8)
    ]
    count = [0]

    def step():
        x, y = batches[count[0] % len(batches)]
        count[0] += 1
        loss = F.cross_entropy(net(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= a.lr * p.grad
        return loss

    start = time.perf_counter()
    warm = 0
    while warm < 5 or time.perf_counter() - start < a.warmup:
        step()
        warm += 1
    per = (time.perf_counter() - start) / warm
    steps = a.steps or max(1, int(0.5 / per))
    samples = []
    cpu = []
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for r in range(a.rounds):
        t = time.perf_counter()
        c = time.process_time()
        for _ in range(steps):
            step()
        samples.append((time.perf_counter() - t) * 1000.0 / steps)
        cpu.append((time.process_time() - c) * 1000.0 / steps)
        sys.stderr.write(f"\rtorch {a.preset}: round {r + 1}/{a.rounds}, {samples[-1]:.2f} ms/step")
    sys.stderr.write("\n")
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / (a.rounds * steps)
    result = {
        "preset": a.preset,
        "batch": a.batch,
        "threads": a.threads,
        "msPerStep": {"median": statistics.median(samples), "min": min(samples), "max": max(samples)},
        "cpuMsPerStep": {"median": statistics.median(cpu), "min": min(cpu), "max": max(cpu)},
        "loadAverage": os.getloadavg()[0],
        "rounds": a.rounds,
        "steps": steps,
        "torch": torch.__version__,
        "dense": a.dense,
        "blas": blas_info(),
        "faultsPerStep": round(faults, 1),
        "flushDenormal": a.flush_denormal,
        "mallocTunables": os.environ.get("GLIBC_TUNABLES", ""),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }
    if a.json:
        print(json.dumps(result))
    else:
        m = result["msPerStep"]
        print(f"{a.preset} batch {a.batch}, {a.threads} thread(s), PyTorch {torch.__version__}: "
              f"{m['median']:.2f} ms/step (min {m['min']:.2f}, max {m['max']:.2f}) over {a.rounds} rounds of {steps} steps "
              f"(dense products: {a.dense}; BLAS {result['blas']})")


if __name__ == "__main__":
    main()
