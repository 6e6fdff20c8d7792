#!/usr/bin/env python3
"""Generate the benchmark's input data (Python stdlib, plus openssl(1)).

usage: gendata.py OUTDIR SEED NAME:COUNT:SIZE[:nohash] ...

For each NAME it writes COUNT files of SIZE bytes under OUTDIR/NAME
(one file: OUTDIR/NAME/NAME.bin; more: spread over subdirectories of at
most 1000 files, OUTDIR/NAME/dNN/fNNNNN.bin), and OUTDIR/manifest.json
with, per NAME: the file count, total bytes, the MD5 of every file and,
for a single file, its SHA-256 (":nohash" skips both, for data that is
only sent to the discard sink).  If OUTDIR/manifest.json already
describes the same SEED and workloads, nothing is written again.

The bytes are pseudo-random and fixed by SEED: the AES-128-CTR key stream
of `openssl enc` (about 1.5 GB/s) with a key derived from SEED and NAME,
so they are incompressible and identical on every run and machine.
Without openssl it falls back to Python's seeded random.randbytes
(about 250 MB/s), which gives different (but also fixed) bytes.
"""
import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys

BLOCK = 8 << 20
PER_DIR = 1000
F_SETPIPE_SZ = 1031


class Stream:
    """A deterministic stream of pseudo-random bytes for one workload."""

    def __init__(self, seed, name):
        key = hashlib.sha256(("%s/%s" % (seed, name)).encode()).digest()
        self.proc = None
        self.rng = None
        if shutil.which("openssl"):
            self.proc = subprocess.Popen(
                ["openssl", "enc", "-aes-128-ctr", "-nosalt",
                 "-K", key[:16].hex(), "-iv", "0" * 32, "-in", "/dev/zero"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                fcntl.fcntl(self.proc.stdout.fileno(), F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
            self.kind = "openssl aes-128-ctr"
        else:
            self.rng = random.Random(key)
            self.kind = "python random.randbytes"

    def read(self, n):
        if self.rng:
            return self.rng.randbytes(n)
        parts, left = [], n
        while left:
            b = self.proc.stdout.read(left)
            if not b:
                raise RuntimeError("openssl stopped")
            parts.append(b)
            left -= len(b)
        return b"".join(parts) if len(parts) > 1 else parts[0]

    def close(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


def write_file(path, size, stream, want_hash):
    md5 = hashlib.md5() if want_hash else None
    sha = hashlib.sha256() if want_hash else None
    with open(path, "wb") as f:
        left = size
        while left:
            block = stream.read(min(BLOCK, left))
            if want_hash:
                md5.update(block)
                sha.update(block)
            f.write(block)
            left -= len(block)
    if not want_hash:
        return None, None
    return md5.hexdigest(), sha.hexdigest()


def parse(spec):
    parts = spec.split(":")
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "nohash"):
        raise ValueError("bad workload %r (want NAME:COUNT:SIZE[:nohash])"
                         % spec)
    return {"name": parts[0], "count": int(parts[1]), "size": int(parts[2]),
            "hash": len(parts) == 3}


def generate(out, seed, specs):
    """Writes the data if needed; returns the manifest (a dict)."""
    wanted = [parse(s) if isinstance(s, str) else s for s in specs]
    path = os.path.join(out, "manifest.json")
    key = {"seed": str(seed),
           "workloads": [[w["name"], w["count"], w["size"], w["hash"]]
                         for w in wanted]}
    try:
        with open(path) as f:
            old = json.load(f)
        if old.get("key") == key:
            return old
    except (OSError, ValueError):
        pass
    os.makedirs(out, exist_ok=True)
    manifest = {"key": key, "workloads": {}}
    for w in wanted:
        top = os.path.join(out, w["name"])
        shutil.rmtree(top, ignore_errors=True)
        os.makedirs(top)
        stream = Stream(seed, w["name"])
        md5s, sha = [], None
        try:
            if w["count"] == 1:
                p = os.path.join(top, w["name"] + ".bin")
                m, sha = write_file(p, w["size"], stream, w["hash"])
                md5s.append(m)
                paths = [p]
            else:
                paths = []
                for i in range(w["count"]):
                    d = os.path.join(top, "d%02d" % (i // PER_DIR))
                    if i % PER_DIR == 0:
                        os.makedirs(d)
                    p = os.path.join(d, "f%05d.bin" % i)
                    m, _ = write_file(p, w["size"], stream, w["hash"])
                    md5s.append(m)
                    paths.append(p)
        finally:
            stream.close()
        manifest["workloads"][w["name"]] = {
            "count": w["count"], "bytes": w["count"] * w["size"],
            "file_size": w["size"], "generator": stream.kind,
            "path": paths[0] if w["count"] == 1 else top,
            "md5": md5s if w["hash"] else None, "sha256": sha}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f)
    os.replace(tmp, path)
    return manifest


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.split("\n\n")[1])
    generate(sys.argv[1], sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    main()
