#!/usr/bin/env python3
"""LeNet in PyTorch on the same weights as infer8's GPU benchmark, timed the same way.

Usage: bench_pytorch.py WEIGHTS [--iters N] [--compile]
WEIGHTS is written by `infer8-bench-gpu --export-weights`: conv1.w, conv1.b, conv2.w, conv2.b,
ip1.w, ip1.b, ip2.w, ip2.b as little-endian float32 in Caffe layout. Each variant is timed as
the median of N runs, each between two CUDA events on one stream, after warm-up. Prints CSV
(variant,precision,batch,us) on stdout and a readable table on stderr.
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SHAPES = [(20, 1, 5, 5), (20,), (50, 20, 5, 5), (50,), (500, 800), (500,), (10, 500), (10,)]
BATCHES = [1, 100, 65536]


def load(path):
    raw = np.fromfile(path, dtype="<f4")
    out, at = [], 0
    for s in SHAPES:
        n = int(np.prod(s))
        out.append(torch.from_numpy(raw[at:at + n].reshape(s).copy()))
        at += n
    if at != raw.size:
        sys.exit(f"{path}: {raw.size} floats, expected {at}")
    return out


def lenet(w):
    c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b = w

    def forward(x):
        x = F.max_pool2d(F.conv2d(x, c1w, c1b), 2)
        x = F.max_pool2d(F.conv2d(x, c2w, c2b), 2)
        x = F.relu(F.linear(x.flatten(1), f1w, f1b))
        return F.softmax(F.linear(x, f2w, f2b), dim=1)

    return forward


def median_us(fn, iters, stream):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    with torch.cuda.stream(stream):
        # The GPU lowers its clocks when idle: 0.3 s of work first, as infer8-bench-gpu does.
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.3:
            fn()
        stream.synchronize()
        for i in range(iters + 20):
            start.record(stream)
            fn()
            end.record(stream)
            end.synchronize()
            if i >= 20:
                times.append(start.elapsed_time(end) * 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--compile", action="store_true", help="also torch.compile (slow to build)")
    a = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    base = [t.to(dev) for t in load(a.weights)]
    stream = torch.cuda.Stream()
    rows = []
    for precision, dtype in [("FP32", torch.float32), ("FP16", torch.float16)]:
        w = [t.to(dtype) for t in base]
        variants = [("eager", lenet(w), torch.contiguous_format), ("channels_last", lenet([t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t for t in w]), torch.channels_last)]
        if a.compile:
            variants.append(("compile", torch.compile(lenet(w), mode="max-autotune-no-cudagraphs"), torch.contiguous_format))
        for batch in BATCHES:
            x = torch.rand(batch, 1, 28, 28, device=dev, dtype=dtype)
            for name, fn, fmt in variants:
                xin = x.contiguous(memory_format=fmt)
                with torch.inference_mode():
                    with torch.cuda.stream(stream):
                        for _ in range(3):
                            fn(xin)
                    stream.synchronize()
                    rows.append((name, precision, batch, median_us(lambda: fn(xin), a.iters, stream)))
                    # The same forward captured once and replayed.
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.stream(stream):
                        fn(xin)
                        stream.synchronize()
                        with torch.cuda.graph(g, stream=stream):
                            fn(xin)
                    rows.append((name + "+graph", precision, batch, median_us(g.replay, a.iters, stream)))
    print("variant,precision,batch,us")
    for r in rows:
        print(f"{r[0]},{r[1]},{r[2]},{r[3]:.2f}")
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}", file=sys.stderr)
    for r in rows:
        print(f"  {r[0]:<22} {r[1]} batch {r[2]:>6}: {r[3]:10.1f} us  {r[2] / r[3] * 1e6:12.3e} images/s", file=sys.stderr)


if __name__ == "__main__":
    main()
