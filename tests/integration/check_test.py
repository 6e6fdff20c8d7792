#!/usr/bin/env python3
"""Data-driven tests of `ferry check`: one small fixture tree per rule and
per edge, each row stating the expected exit status and finding for each
of the three APIs.  The tests write the .npy headers themselves (there is
no numpy here); big files are sparse.

Usage: check_test.py --ferry BUILD/ferry [-k SUBSTRING]
Ends with "N passed, M failed".
"""

import argparse
import functools
import json
import os
import struct
import subprocess
import sys
import tempfile

import harness

GB = 1000 ** 3


def npy(path, descr="<f4", shape=(4, 2), fortran=False, version=1,
        data=None, magic=b"\x93NUMPY", size=None):
    """Writes a .npy file; size (bytes of data) may make it sparse."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shape_txt = "(%s)" % "".join("%d, " % d for d in shape).rstrip(" ")
    if len(shape) > 1:
        shape_txt = "(%s)" % ", ".join(str(d) for d in shape)
    hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_txt)
    lenfmt = "<H" if version == 1 else "<I"
    fixed = len(magic) + 2 + struct.calcsize(lenfmt)
    pad = (64 - (fixed + len(hdr) + 1) % 64) % 64
    hdr = (hdr + " " * pad + "\n").encode()
    itemsize = int(descr[2:]) if descr[1] in "fiub" else 4
    count = 1
    for d in shape:
        count *= d
    nbytes = itemsize * count if size is None else size
    with open(path, "wb") as f:
        f.write(magic + bytes([version, 0]) + struct.pack(lenfmt, len(hdr)))
        f.write(hdr)
        if data is not None:
            f.write(data)
        elif nbytes > 64 << 20:
            f.truncate(f.tell() + nbytes)
        else:
            f.write(b"\0" * nbytes)


def text(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(body)


ROWS = '{"rows": [{"id": 1, "vector": [0.1, 0.2]}]}'


def chunk(d, rows=4):
    npy(os.path.join(d, "id.npy"), "<i8", (rows,))
    npy(os.path.join(d, "vector.npy"), "<f4", (rows, 2))


# Each row: name, builder(root) -> list of PATH arguments, extra options,
# and {api: (exit status, rule expected among the findings or None)}.
def two_json(r):
    text(r + "/d/a.json", ROWS)
    text(r + "/d/b.json", ROWS)
    return [r + "/d"]


def mixed(r):
    text(r + "/d/a.json", ROWS)
    chunk(r + "/d/1")
    return [r + "/d"]


def three_deep(r):
    chunk(r + "/d/a/b/c")
    return [r + "/d"]


def big_subfolder(r):
    npy(r + "/d/1/vector.npy", "<f4", (17 * GB // 4,))
    npy(r + "/d/1/id.npy", "<f4", (17 * GB // 4,), size=17 * GB)
    return [r + "/d"]


def rows_differ(r):
    npy(r + "/d/1/id.npy", "<i8", (4,))
    npy(r + "/d/1/vector.npy", "<f4", (5, 2))
    return [r + "/d"]


def truncated(r):
    npy(r + "/d/1/id.npy", "<i8", (4,), data=b"\0" * 10)
    return [r + "/d"]


def bad_magic(r):
    npy(r + "/d/1/id.npy", magic=b"\x93NUMPX")
    return [r + "/d"]


def big_endian(r):
    npy(r + "/d/1/id.npy", ">i8", (4,))
    return [r + "/d"]


def fortran(r):
    npy(r + "/d/1/vector.npy", "<f4", (4, 2), fortran=True)
    return [r + "/d"]


def txt_in_numpy(r):
    chunk(r + "/d")
    text(r + "/d/README.txt", "notes")
    return [r + "/d"]


def empty(r):
    os.makedirs(r + "/d")
    return [r + "/d"]


def symlink_loop(r):
    chunk(r + "/d/1")
    os.symlink("..", r + "/d/1/loop")
    return [r + "/d"]


def link_out(r):
    chunk(r + "/d/1")
    text(r + "/outside.npy", "x")
    os.symlink(r + "/outside.npy", r + "/d/1/out.npy")
    return [r + "/d"]


def missing_path(r):
    return [r + "/nope"]


def unreadable(r):
    text(r + "/d/a.json", ROWS)
    os.chmod(r + "/d/a.json", 0)
    return [r + "/d/a.json"]


def good_mix_of_paths(r):
    text(r + "/rows.json", ROWS)
    text(r + "/lines.jsonl", '{"id": 1}\n{"id": 2}\n')
    with open(r + "/t.parquet", "wb") as f:
        f.write(b"PAR1" + b"\0" * 16 + b"PAR1")
    chunk(r + "/npy/1")
    chunk(r + "/npy/2")
    return [r + "/rows.json", r + "/lines.jsonl", r + "/t.parquet",
            r + "/npy"]


def npy_given_together(r):
    chunk(r + "/c")
    return [r + "/c/id.npy", r + "/c/vector.npy"]


def bad_json(r):
    text(r + "/x.json", '{"data": [{"id": 1}]}')
    return [r + "/x.json"]


def bad_parquet(r):
    text(r + "/x.parquet", "PAR1 but not at the end")
    return [r + "/x.parquet"]


def schema_missing(r):
    text(r + "/x.json", '[{"id": 1}]')
    text(r + "/schema.json", '["id", "vector"]')
    return [r + "/x.json"]


def three_files(r):
    for n in "abc":
        text(r + "/%s.json" % n, ROWS)
    return [r + "/a.json", r + "/b.json", r + "/c.json"]


ALL_OK = {"v1": (0, None), "v2": (0, None), "milvus": (0, None)}


def all_apis(code, rule):
    return {api: (code, rule) for api in ("v1", "v2", "milvus")}


TABLE = [
    ("two JSON files in one folder", two_json, [],
     {"v1": (3, "v1-one-json-file"), "v2": (0, None), "milvus": (0, None)}),
    ("JSON and NumPy mixed", mixed, [],
     {"v1": (3, "mixed-types"), "v2": (3, "mixed-types"),
      "milvus": (0, None)}),
    ("a folder three levels deep", three_deep, [],
     {"v1": (3, "depth"), "v2": (3, "depth"), "milvus": (0, None)}),
    ("a chunk folder over its size limit", big_subfolder, [],
     {"v1": (3, "subfolder-size"), "v2": (3, "file-size"),
      "milvus": (3, "file-size")}),
    ("npy files of different row counts", rows_differ, [],
     all_apis(3, "npy-row-count")),
    ("a truncated npy", truncated, [], all_apis(3, "npy-size")),
    ("a bad npy magic", bad_magic, [], all_apis(3, "npy-header")),
    ("a big-endian dtype", big_endian, [], all_apis(3, "npy-byte-order")),
    ("Fortran order", fortran, [], all_apis(3, "npy-fortran-order")),
    ("a .txt in a NumPy folder", txt_in_numpy, [],
     all_apis(0, "not-importable")),
    ("an empty folder", empty, [], all_apis(3, "empty-folder")),
    ("a symlink loop", symlink_loop, [], all_apis(0, "skipped")),
    ("a symlink out of the tree", link_out, [], all_apis(0, "skipped")),
    ("a path that does not exist", missing_path, [],
     all_apis(3, "unreadable")),
    ("an unreadable file", unreadable, [], all_apis(3, "json-start")),
    ("good files of every kind", good_mix_of_paths, [], ALL_OK),
    (".npy files given together", npy_given_together, [], ALL_OK),
    ("JSON without rows", bad_json, [], all_apis(3, "json-start")),
    ("Parquet without its magic", bad_parquet, [],
     all_apis(3, "parquet-magic")),
    ("a field the schema wants is missing", schema_missing,
     ["--schema", "{root}/schema.json"], all_apis(3, "schema-missing-field")),
    ("more units than --max-units", three_files, ["--max-units", "2"],
     all_apis(3, "too-many-units")),
    ("more files than --max-files", three_files, ["--max-files", "2"],
     all_apis(3, "too-many-files")),
]


def run_row(args, row, api, work):
    name, build, extra, expect = row
    root = tempfile.mkdtemp(dir=work)
    paths = build(root)
    want_code, want_rule = expect[api]
    if build is unreadable and os.geteuid() == 0:
        want_code, want_rule = 0, None      # root reads every file
    cmd = [args.ferry, "check", "--api", api, "--json"] + \
        [e.replace("{root}", root) for e in extra] + paths
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == want_code, (r.returncode, r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    rules = [f["rule"] for f in doc["findings"]]
    if want_rule:
        assert want_rule in rules, rules
        f = [f for f in doc["findings"] if f["rule"] == want_rule][0]
        assert f["path"] and f["message"], f
    if want_code == 0:
        assert doc["errors"] == 0, doc["findings"]
    # the human report says the same in one line per finding
    h = subprocess.run(cmd[:4] + cmd[5:], capture_output=True, text=True)
    assert h.returncode == want_code
    if want_rule:
        assert any(want_rule in l for l in h.stdout.splitlines()), h.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    args.ferry = os.path.abspath(args.ferry)
    work = tempfile.mkdtemp(prefix="ferry-check-")
    cases = [("%s [%s]" % (row[0], api),
              functools.partial(run_row, args, row, api, work))
             for row in TABLE for api in ("v1", "v2", "milvus")]
    try:
        return harness.run_cases("check", cases, args.k)
    finally:
        subprocess.run(["chmod", "-R", "u+rwX", work])
        subprocess.run(["rm", "-rf", work])

if __name__ == "__main__":
    sys.exit(main())
