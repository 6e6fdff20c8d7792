#!/usr/bin/env python3
"""Summarise bench/run.sh's raw measurements (Python stdlib only).

usage: report.py RUNS.tsv META.tsv MANIFEST.json OUT.json

RUNS.tsv has one line per timed run:
  tool workload run status wall_s user_s sys_s max_rss_kib server_cpu_s
  reason
META.tsv has lines "kind<TAB>key<TAB>value" with kind one of meta,
version, command, skipped.

Prints a table of medians over the successful runs of every tool and
workload, with each tool's median wall time and CPU time divided by
ferry's (ferry = 1.00), and writes the same, plus every raw run, as
JSON to OUT.json.
"""
import datetime
import json
import os
import statistics
import sys

BASELINE = "ferry"
MIB = 1 << 20


def read_tsv(path):
    with open(path) as f:
        return [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]


def workload_label(name, want):
    if name == "big":
        mib = want["bytes"] / MIB
        if mib >= 1024 and mib % 1024 == 0:
            return "%d GiB file" % (mib // 1024)
        return "%g MiB file" % mib
    return "%d files" % want["count"]


def load_runs(path):
    runs = []
    for row in read_tsv(path):
        row += [""] * (10 - len(row))
        tool, wl, run, status, wall, user, sys_, rss, srv, reason = row[:10]

        def num(s):
            try:
                return float(s)
            except ValueError:
                return None
        runs.append({
            "tool": tool, "workload": wl, "run": int(run),
            "status": status, "wall_s": num(wall), "user_s": num(user),
            "sys_s": num(sys_),
            "cpu_s": (num(user) or 0) + (num(sys_) or 0)
            if num(user) is not None else None,
            "max_rss_mib": num(rss) / 1024 if num(rss) else None,
            "server_cpu_s": num(srv), "reason": reason})
    return runs


def summarise(runs, manifest):
    groups = {}
    for r in runs:
        groups.setdefault((r["workload"], r["tool"]), []).append(r)
    out = []
    for (wl, tool), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        s = {"tool": tool, "workload": wl,
             "workload_label": workload_label(wl, manifest[wl]),
             "runs_ok": len(ok), "runs": len(rs)}
        if ok:
            walls = [r["wall_s"] for r in ok]
            med = statistics.median(walls)
            want = manifest[wl]
            s.update({
                "median_wall_s": med,
                "min_wall_s": min(walls), "max_wall_s": max(walls),
                "spread_pct": 100 * (max(walls) - min(walls)) / med
                if med else 0.0,
                "mib_per_s": want["bytes"] / MIB / med if med else None,
                "files_per_s": want["count"] / med if med else None,
                "median_cpu_s": statistics.median(r["cpu_s"] for r in ok),
                "median_user_s": statistics.median(
                    r["user_s"] for r in ok),
                "median_sys_s": statistics.median(r["sys_s"] for r in ok),
                "median_max_rss_mib": statistics.median(
                    r["max_rss_mib"] for r in ok),
                "median_server_cpu_s": statistics.median(
                    r["server_cpu_s"] for r in ok),
            })
        out.append(s)
    base = {s["workload"]: s for s in out
            if s["tool"] == BASELINE and s["runs_ok"]}
    for s in out:
        b = base.get(s["workload"])
        for key, name in (("median_wall_s", "wall_ratio_vs_ferry"),
                          ("median_cpu_s", "cpu_ratio_vs_ferry")):
            s[name] = (s[key] / b[key]
                       if b and s.get(key) is not None and b[key] else None)
    return out


def fmt(v, spec, missing="-"):
    return missing if v is None else format(v, spec)


def table(summary, order):
    head = ("tool", "workload", "ok", "wall s", "spread", "rate",
            "CPU s", "RSS MiB", "srv CPU s", "wall/ferry", "CPU/ferry")
    rows = []
    for s in sorted(summary, key=lambda s: (order["wl"].index(
            s["workload"]), order["tool"].index(s["tool"]))):
        if s["runs_ok"]:
            rate = (fmt(s["mib_per_s"], ".1f") + " MiB/s"
                    if s["workload"] == "big"
                    else fmt(s["files_per_s"], ".0f") + " files/s")
        else:
            rate = "FAILED"
        rows.append((
            s["tool"], s["workload_label"],
            "%d/%d" % (s["runs_ok"], s["runs"]),
            fmt(s.get("median_wall_s"), ".2f"),
            fmt(s.get("spread_pct"), ".0f") + "%"
            if s["runs_ok"] else "-",
            rate,
            fmt(s.get("median_cpu_s"), ".2f"),
            fmt(s.get("median_max_rss_mib"), ".1f"),
            fmt(s.get("median_server_cpu_s"), ".2f"),
            fmt(s.get("wall_ratio_vs_ferry"), ".2f"),
            fmt(s.get("cpu_ratio_vs_ferry"), ".2f")))
    widths = [max(len(r[i]) for r in rows + [head])
              for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(r[2:], widths[2:])]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    runs_path, meta_path, manifest_path, out_path = sys.argv[1:]
    with open(manifest_path) as f:
        manifest = json.load(f)
    runs = load_runs(runs_path)
    meta, versions, commands, skipped = {}, {}, {}, {}
    tools = []
    for row in read_tsv(meta_path):
        kind, key, value = (row + ["", ""])[:3]
        if kind == "meta":
            meta[key] = value
        elif kind == "version":
            versions[key] = value
            tools.append(key)
        elif kind == "command":
            commands[key] = value
        elif kind == "skipped":
            skipped[key] = value
    for r in runs:
        if r["tool"] not in tools:
            tools.append(r["tool"])
    summary = summarise(runs, manifest)
    order = {"wl": ["big", "small"], "tool": tools}

    print(table(summary, order))
    print("Medians over each row's successful runs (of %s). wall/ferry "
          "and CPU/ferry: the\ntool's median wall time and client CPU "
          "(user+sys) over ferry's on the same\nworkload; above 1.00 means "
          "slower or more CPU than ferry." % meta.get("runs", "?"))
    failed = [r for r in runs if r["status"] != "ok"]
    for r in failed:
        print("failed run: %s %s #%d: %s" % (r["tool"], r["workload"],
                                             r["run"], r["reason"]))
    for tool, why in skipped.items():
        print("skipped: %s: %s" % (tool, why))

    doc = {
        "generated": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="seconds"),
        "meta": meta,
        "workloads": {k: {"label": workload_label(k, v),
                          "objects": v["count"], "bytes": v["bytes"]}
                      for k, v in manifest.items() if k != "warm"},
        "tools": {t: {"version": versions.get(t),
                      "command": commands.get(t)} for t in tools},
        "skipped": skipped,
        "baseline": BASELINE,
        "summary": sorted(summary, key=lambda s: (
            order["wl"].index(s["workload"]),
            order["tool"].index(s["tool"]))),
        "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)
    print("JSON: %s" % out_path)


if __name__ == "__main__":
    main()
