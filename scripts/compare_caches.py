#!/usr/bin/env python3
"""Compares two INT8 calibration caches (TensorRT's text format: a `TRT-<version>-<algorithm>`
header, then `tensor: <scale as big-endian float bits in hex>` lines), the CPU's first. A tensor
passes when its ranges differ by at most 1/2048 of the CPU's: within one histogram bin, whose
width (the tensor's absolute maximum / 2048) is at least that. Exit status 1 when any fails."""
import struct
import sys


def read(path):
    with open(path) as f:
        lines = f.read().split("\n")
    scales = {}
    for line in lines[1:]:
        if ":" in line:
            name, hexbits = line.rsplit(":", 1)
            scales[name] = struct.unpack(">f", bytes.fromhex(hexbits.strip().zfill(8)))[0]
    return lines[0], scales


def main():
    (head_a, a), (head_b, b) = read(sys.argv[1]), read(sys.argv[2])
    ok = head_a == head_b and a.keys() == b.keys()
    same = sum(a[n] == b[n] for n in a if n in b)
    worst, name = 0.0, ""
    for n in a:
        if n in b and a[n] > 0:
            d = abs(a[n] - b[n]) / a[n]
            if d > worst:
                worst, name = d, n
    ok = ok and worst <= 1 / 2048
    print(f"calibration caches: {len(a)} tensors ({head_a} / {head_b}), {same} identical, "
          f"largest range difference {worst:.3e} relative ({name or 'none'}): "
          f"{'within one bin' if ok else 'NOT within one bin'}")
    sys.exit(0 if ok else 1)


main()
