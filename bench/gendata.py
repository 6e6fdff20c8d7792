#!/usr/bin/env python3
"""Generate the benchmark's input data once (Python stdlib only).

usage: gendata.py OUTDIR BIG_MIB SMALL_COUNT

Writes, under OUTDIR:
  big/big.bin          one file of BIG_MIB MiB of random bytes
  small/d0 .. d3/...   SMALL_COUNT files of 1-64 KiB of random bytes,
                       spread over a few subdirectories (one nested)
  warm/warm.bin        one 4 KiB file for the untimed warm-up upload
  manifest.json        per workload: object count, total bytes and the
                       MD5 of every file (used to check the uploads)

Contents come from os.urandom (incompressible); the small files' sizes
come from a seeded generator, so every run of the benchmark uploads the
same number of bytes.
"""
import hashlib
import json
import os
import random
import sys

SUBDIRS = ("d0", "d1", "d2", os.path.join("d3", "nested"))
CHUNK = 8 << 20


def write_random(path, size):
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            md5.update(block)
            f.write(block)
            left -= len(block)
    return md5.hexdigest()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    out, big_mib, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    manifest = {}

    os.makedirs(os.path.join(out, "big"))
    size = big_mib << 20
    md5 = write_random(os.path.join(out, "big", "big.bin"), size)
    manifest["big"] = {"count": 1, "bytes": size, "md5": [md5]}

    rng = random.Random(20240601)
    for sub in SUBDIRS:
        os.makedirs(os.path.join(out, "small", sub))
    total, sums = 0, []
    for i in range(count):
        size = rng.randint(1 << 10, 64 << 10)
        sub = SUBDIRS[i % len(SUBDIRS)]
        path = os.path.join(out, "small", sub, "f%05d.bin" % i)
        sums.append(write_random(path, size))
        total += size
    manifest["small"] = {"count": count, "bytes": total, "md5": sums}

    os.makedirs(os.path.join(out, "warm"))
    md5 = write_random(os.path.join(out, "warm", "warm.bin"), 4096)
    manifest["warm"] = {"count": 1, "bytes": 4096, "md5": [md5]}

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
