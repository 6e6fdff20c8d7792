#!/usr/bin/env python3
"""Summaries of bench/run's measurements (Python stdlib, gnuplot).

Used by bench/run; also on its own, to redo the outputs from a JSON:

  report.py RESULTS.json [OUTDIR]

write_all() turns the raw document into:
  PREFIX.json   the document plus "summary" (medians per server,
                workload and tool, ratios to ferry) and "targets"
  PREFIX.md     the tables (medians, targets, sweep, sparse file)
  PREFIX.png    a chart of the medians (gnuplot, pngcairo)
  profile.txt   the CPU profile, when the run made one
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

MiB = 1 << 20
GiB = 1 << 30
BASELINE = "ferry"
SERVER_NAMES = {"rgw": "RGW", "sink": "sink"}
BLOCK_ORDER = [("rgw", "big1g"), ("rgw", "many1m"), ("rgw", "tiny4k"),
               ("sink", "big1g"), ("sink", "big4g")]
TOOL_ORDER = ["ferry", "ferry-tuned", "aws-cli-1", "aws-cli-1-64M",
              "aws-cli-2", "aws-cli-2-64M", "rclone", "s3cmd", "curl"]
DEFAULT_PART = 16 * MiB
DEFAULT_CONCURRENCY = 8
RSS_SLACK = 32 * MiB


def human(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return "%d %s" % (n // size, unit)
    return "%d B" % n


def label(doc, wl):
    w = doc["workloads"].get(wl) or {}
    if not w:
        return wl
    if w["objects"] == 1:
        return "%s file" % human(w["bytes"])
    return "{:,} x {}".format(w["objects"], human(w["file_size"]))


def parse_size(text):
    units = {"KiB": 1024, "MiB": MiB, "GiB": GiB}
    for u, m in units.items():
        if text.endswith(u):
            return int(text[:-len(u)]) * m
    return int(text)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(doc):
    groups = {}
    for r in doc["runs"]:
        groups.setdefault((r["server"], r["workload"], r["tool"]),
                          []).append(r)
    out = []
    for (server, wl, tool), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        w = doc["workloads"][wl]
        s = {"server": server, "workload": wl, "tool": tool,
             "label": label(doc, wl), "runs_ok": len(ok), "runs": len(rs)}
        if ok:
            walls = [r["wall_s"] for r in ok]
            med = median(walls)
            cpu = median([r["cpu_s"] for r in ok])
            s.update({
                "median_wall_s": med, "min_wall_s": min(walls),
                "max_wall_s": max(walls),
                "spread_pct": 100 * (max(walls) - min(walls)) / med,
                "mib_per_s": w["bytes"] / MiB / med,
                "gib_per_s": w["bytes"] / GiB / med,
                "files_per_s": w["objects"] / med,
                "median_cpu_s": cpu,
                "cpu_s_per_gib": cpu / (w["bytes"] / GiB),
                "median_user_s": median([r["user_s"] for r in ok]),
                "median_sys_s": median([r["sys_s"] for r in ok]),
                "median_max_rss_mib": median([r["max_rss_mib"]
                                              for r in ok]),
                "max_max_rss_mib": max(r["max_rss_mib"] for r in ok),
                "median_server_cpu_s": median([r["server_cpu_s"]
                                               for r in ok]),
            })
        out.append(s)
    base = {(s["server"], s["workload"]): s for s in out
            if s["tool"] == BASELINE and s["runs_ok"]}
    for s in out:
        b = base.get((s["server"], s["workload"]))
        for key, name in (("median_wall_s", "wall_ratio_vs_ferry"),
                          ("median_cpu_s", "cpu_ratio_vs_ferry")):
            s[name] = (s[key] / b[key] if b and s.get(key) is not None
                       and b[key] else None)
    order = {k: i for i, k in enumerate(BLOCK_ORDER)}
    tools = {t: i for i, t in enumerate(TOOL_ORDER)}
    out.sort(key=lambda s: (order.get((s["server"], s["workload"]), 99),
                            tools.get(s["tool"], 99)))
    return out


def find(summary, server, wl, tool):
    for s in summary:
        if (s["server"], s["workload"], s["tool"]) == (server, wl, tool):
            return s if s["runs_ok"] else None
    return None


def ferry_setting(doc, tool, run=None):
    """(part size, concurrency) of a ferry run."""
    if run and run.get("setting"):
        return parse_size(run["part_size"]), int(run["concurrency"])
    if tool == "ferry-tuned":
        t = doc["meta"]["ferry_tuned"].split()
        return parse_size(t[1]), int(t[3])
    return DEFAULT_PART, DEFAULT_CONCURRENCY


def targets(doc, summary):
    """The issue's targets, each met / missed with the figures."""
    res = []

    def add(name, ok, text):
        res.append({"target": name,
                    "status": "n/a" if ok is None else
                    ("met" if ok else "missed"), "detail": text})

    def fmt_s(s):
        return "%.2f s" % s["median_wall_s"]

    # 1. 1 GiB to RGW against aws-cli 1's best setting and curl.
    aws = [s for s in (find(summary, "rgw", "big1g", "aws-cli-1"),
                       find(summary, "rgw", "big1g", "aws-cli-1-64M")) if s]
    curl = find(summary, "rgw", "big1g", "curl")
    for tool in ("ferry", "ferry-tuned"):
        f = find(summary, "rgw", "big1g", tool)
        if not f:
            continue
        if aws:
            best = min(aws, key=lambda s: s["median_wall_s"])
            ratio = f["median_wall_s"] / best["median_wall_s"]
            add("1 GiB to RGW: %s wall <= 0.8 x aws-cli 1.45's best" % tool,
                ratio <= 0.8, "%s %s vs %s %s: %.2f x" % (
                    tool, fmt_s(f), best["tool"], fmt_s(best), ratio))
        if curl:
            ratio = f["median_wall_s"] / curl["median_wall_s"]
            add("1 GiB to RGW: %s no slower than curl's single PUT" % tool,
                ratio <= 1.0, "%s %s vs curl %s: %.2f x" % (
                    tool, fmt_s(f), fmt_s(curl), ratio))
    # 2. CPU per GiB.
    for tool in ("ferry", "ferry-tuned"):
        rows = [s for s in (find(summary, sv, wl, tool) for sv, wl in
                            (("rgw", "big1g"), ("sink", "big1g"),
                             ("sink", "big4g"))) if s]
        if rows:
            worst = max(s["cpu_s_per_gib"] for s in rows)
            add("client CPU <= 1.0 s per GiB (SHA-256 payload hash on): %s"
                % tool, worst <= 1.0, "; ".join(
                    "%s %s: %.2f s/GiB (user %.2f + sys %.2f s)" % (
                        SERVER_NAMES[s["server"]], s["label"],
                        s["cpu_s_per_gib"], s["median_user_s"],
                        s["median_sys_s"]) for s in rows))
    # 3. Sink throughput for 4 GiB.
    for tool in ("ferry", "ferry-tuned"):
        f = find(summary, "sink", "big4g", tool)
        if f:
            c = find(summary, "sink", "big4g", "curl")
            add("sink >= 1.2 GiB/s for the 4 GiB file: %s" % tool,
                f["gib_per_s"] >= 1.2, "%.2f GiB/s (%s)%s" % (
                    f["gib_per_s"], fmt_s(f),
                    "; curl %.2f GiB/s" % c["gib_per_s"] if c else ""))
    # 4. Many files against aws-cli 1.
    for wl in ("many1m", "tiny4k"):
        a = find(summary, "rgw", wl, "aws-cli-1")
        for tool in ("ferry", "ferry-tuned"):
            f = find(summary, "rgw", wl, tool)
            if f and a:
                sp = a["median_wall_s"] / f["median_wall_s"]
                add("%s to RGW: %s >= 2x faster than aws-cli 1.45" % (
                    label(doc, wl), tool), sp >= 2.0,
                    "%s %s vs aws-cli-1 %s: %.2f x faster" % (
                        tool, fmt_s(f), fmt_s(a), sp))
    # 5. Peak RSS bound, every ferry run.
    rows = []
    allruns = list(doc["runs"]) + list(doc.get("sweep") or [])
    if doc.get("sparse"):
        allruns.append(doc["sparse"])
    worst = None
    for r in allruns:
        if not r["tool"].startswith("ferry") or r["status"] != "ok":
            continue
        part, conc = ferry_setting(doc, r["tool"], r)
        bound = (conc * part + RSS_SLACK) / MiB
        margin = r["max_rss_mib"] / bound
        if worst is None or margin > worst[0]:
            worst = (margin, r, bound, part, conc)
        rows.append(margin <= 1.0)
    if rows:
        margin, r, bound, part, conc = worst
        add("peak RSS <= parts in flight x part size + 32 MiB",
            all(rows), "%d of %d ferry runs within the bound; the closest: "
            "%s %s %s (%s x %d): %.1f MiB of %.0f MiB allowed" % (
                sum(rows), len(rows), r["tool"],
                SERVER_NAMES[r["server"]], label(doc, r["workload"])
                if r["workload"] != "sparse" else "sparse file",
                human(part), conc, r["max_rss_mib"], bound))
    # The sparse file against the biggest cached file that fills every
    # part buffer (in --quick the "1 GiB" file is 64 MiB: 4 buffers).
    sp = doc.get("sparse")
    wl = "big4g" if find(summary, "sink", "big4g", "ferry") else "big1g"
    one = find(summary, "sink", wl, "ferry")
    if sp and one and sp["status"] == "ok":
        add("sparse %s file: peak RSS about that of a %s"
            % (human(sp["bytes"]), label(doc, wl)),
            sp["max_rss_mib"] <= one["max_max_rss_mib"] * 1.25 + 8,
            "%.1f MiB for the sparse file vs %.1f MiB (median) for %s "
            "to the sink" % (sp["max_rss_mib"], one["median_max_rss_mib"],
                             label(doc, wl)))
    return res


def fmt(v, spec, missing="-"):
    return missing if v is None else format(v, spec)


def md_table(head, rows, align):
    lines = ["| " + " | ".join(head) + " |",
             "| " + " | ".join("---:" if a == "r" else "---"
                               for a in align) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def medians_table(doc, summary):
    rows = []
    for s in summary:
        wl = doc["workloads"][s["workload"]]
        if s["runs_ok"]:
            rate = (fmt(s["mib_per_s"], ".0f") + " MiB/s"
                    if wl["objects"] == 1 else
                    fmt(s["files_per_s"], ".0f") + " files/s")
        else:
            rate = "FAILED"
        rows.append([
            SERVER_NAMES[s["server"]], s["label"],
            "**%s**" % s["tool"] if s["tool"] == BASELINE else s["tool"],
            "%d/%d" % (s["runs_ok"], s["runs"]),
            fmt(s.get("median_wall_s"), ".2f"),
            fmt(s.get("spread_pct"), ".0f") + "%" if s["runs_ok"] else "-",
            rate, fmt(s.get("median_cpu_s"), ".2f"),
            fmt(s.get("cpu_s_per_gib"), ".2f"),
            fmt(s.get("median_max_rss_mib"), ".0f"),
            fmt(s.get("median_server_cpu_s"), ".2f"),
            fmt(s.get("wall_ratio_vs_ferry"), ".2f"),
            fmt(s.get("cpu_ratio_vs_ferry"), ".2f")])
    return md_table(["server", "workload", "tool", "ok", "wall s", "spread",
                     "rate", "CPU s", "CPU s/GiB", "RSS MiB", "srv CPU s",
                     "wall/ferry", "CPU/ferry"], rows,
                    "lllrrrrrrrrrr")


def sweep_table(doc):
    rows = []
    for r in doc.get("sweep") or []:
        w = doc["workloads"][r["workload"]]
        ok = r["status"] == "ok"
        rows.append([SERVER_NAMES[r["server"]], label(doc, r["workload"]),
                     r["setting"], "%.2f" % r["wall_s"] if ok else "FAILED",
                     "%.0f MiB/s" % (w["bytes"] / MiB / r["wall_s"])
                     if ok else "-",
                     "%.2f" % r["cpu_s"], "%.0f" % r["max_rss_mib"]])
    if not rows:
        return ""
    return md_table(["server", "workload", "--part-size x --concurrency",
                     "wall s", "rate", "CPU s", "RSS MiB"], rows, "lllrrrr")


def sparse_table(doc, summary):
    sp = doc.get("sparse")
    if not sp:
        return ""
    rows = []
    for tool_row, name in ((find(summary, "sink", "big1g", "ferry"),
                            label(doc, "big1g") + " (median)"),
                           (find(summary, "sink", "big4g", "ferry"),
                            label(doc, "big4g") + " (median)")):
        if tool_row:
            rows.append([name, "%.2f" % tool_row["median_wall_s"],
                         "%.2f GiB/s" % tool_row["gib_per_s"],
                         "%.2f" % tool_row["median_cpu_s"],
                         "%.1f" % tool_row["median_max_rss_mib"]])
    size = sp["bytes"]
    ok = sp["status"] == "ok"
    rows.append(["sparse %s file (truncate -s)" % human(size),
                 "%.2f" % sp["wall_s"] if ok else "FAILED",
                 "%.2f GiB/s" % (size / GiB / sp["wall_s"]) if ok else "-",
                 "%.2f" % sp["cpu_s"], "%.1f" % sp["max_rss_mib"]])
    return md_table(["ferry defaults to the sink", "wall s", "rate",
                     "CPU s", "peak RSS MiB"], rows, "lrrrr")


def markdown(doc):
    summary = doc.get("summary") or summarise(doc)
    tg = doc.get("targets") or targets(doc, summary)
    m = doc["meta"]
    out = ["# ferry upload benchmark: %s run, %s" % (doc["mode"],
                                                    doc["generated"]), ""]
    out.append("- command: `%s` (%d run(s) per tool and workload, medians; "
               "total %.1f min)" % (m["command"].strip(), m["runs"],
                                    m["total_s"] / 60))
    out.append("- machine: %d CPUs, %s, Linux %s, %s" % (
        m["nproc"], m["cpu"], m["kernel"], m.get("os", "")))
    out.append("- servers on 127.0.0.1: %s (1 OSD, BlueStore); the discard "
               "sink `bench/sink.c` (`%s`)" % (m["rgw"], m["sink_build"]))
    if m.get("phases_s"):
        out.append("- time per phase: " + ", ".join(
            "%s %.0f s" % (n, t) for n, t in m["phases_s"]))
    out.append("- ferry: %s, build type %s; ferry-tuned = `%s`" % (
        (doc["tools"].get("ferry") or {}).get("version"), m["ferry_build"],
        m["ferry_tuned"]))
    out.append("")
    out.append(medians_table(doc, summary))
    out.append("")
    out.append("wall s: median wall time; spread: (max - min) / median; "
               "CPU s: client user + system; RSS: client peak RSS; srv CPU "
               "s: CPU of the server processes during the run; wall/ferry "
               "and CPU/ferry: the tool's median over ferry's (defaults) on "
               "the same server and workload, above 1.00 = slower / more "
               "CPU than ferry.")
    sha = sorted({r["tool"] for r in doc["runs"]
                  if (r.get("check") or {}).get("sha256") == "match"})
    rgw = [r for r in doc["runs"] if r["server"] == "rgw"]
    sink = [r for r in doc["runs"] if r["server"] == "sink"]
    out.append("")
    out.append("Checks: %d RGW runs listed back (object count and every "
               "object's size; plain-MD5 ETags compared with the input "
               "files' MD5s), %d failed; SHA-256 of a GET of the %s equal "
               "to the input's for: %s. %d sink runs: exit status and the "
               "sink's object and byte counters, %d failed." % (
                   len(rgw), sum(r["status"] != "ok" for r in rgw),
                   label(doc, "big1g"), ", ".join(sha) or "none",
                   len(sink), sum(r["status"] != "ok" for r in sink)))
    out.append("")
    out.append("## Targets")
    out.append("")
    for t in tg:
        out.append("- **%s**: %s (%s)" % (t["status"], t["target"],
                                          t["detail"]))
    st = sweep_table(doc)
    if st:
        out += ["", "## ferry settings sweep (one run each)", "", st]
    sp = sparse_table(doc, summary)
    if sp:
        out += ["", "## Sparse file", "", sp]
    prof = doc.get("profile")
    if prof:
        out += ["", "## CPU profile (ferry, 1 GiB to the sink)", "",
                profile_summary(prof), "",
                "Details: profile.txt."]
    failed = [r for r in doc["runs"] + (doc.get("sweep") or [])
              if r["status"] != "ok"]
    if doc.get("sparse") and doc["sparse"]["status"] != "ok":
        failed.append(doc["sparse"])
    extra = []
    for r in failed:
        extra.append("- failed: %s %s %s #%d: %s" % (
            r["tool"], r["server"], r["workload"], r["run"], r["reason"]))
    for k, v in (doc.get("skipped") or {}).items():
        extra.append("- skipped: %s: %s" % (k, v))
    for n in doc.get("notes") or []:
        extra.append("- note: %s" % n)
    if extra:
        out += ["", "## Failures, skipped tools, notes", ""] + extra
    out += ["", "## Tools", ""]
    rows = []
    for t, v in doc["tools"].items():
        cmds = v.get("command") or []
        if isinstance(cmds, str):
            cmds = [cmds]
        rows.append([t, (v.get("version") or "").replace("|", "/"),
                     "<br>".join("`%s`" % c.replace("|", "\\|")
                                 for c in cmds)])
    out.append(md_table(["tool", "version", "command"], rows, "lll"))
    return "\n".join(out) + "\n"


# --- profile ------------------------------------------------------------

def parse_pct_rows(text):
    """Rows "  12.34%  name..." of perf report: (pct, rest)."""
    rows = []
    for line in (text or "").splitlines():
        parts = line.split(None, 1)
        if parts and parts[0].endswith("%"):
            try:
                rows.append((float(parts[0][:-1]),
                             parts[1].strip() if len(parts) > 1 else ""))
            except ValueError:
                pass
    return rows


def parse_cg(text):
    """Rows of callgrind_annotate: (percent, function [library])."""
    rows = []
    for line in (text or "").splitlines():
        m = re.match(r"^\s*[\d,]+\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
        if m:
            name = m.group(2)
            name = re.sub(r"^\S*?:(?=[^/:]+( \[|$))", "", name)
            rows.append((float(m.group(1)), name))
    return rows


def profile_summary(prof):
    lines = []
    dso = parse_pct_rows(prof.get("perf_dso"))
    if dso:
        lines.append("perf record (cpu-clock samples, all threads) by "
                     "library: " + ", ".join(
                         "%s %.1f%%" % (name, pct) for pct, name in dso[:6]))
    self_rows = parse_cg(prof.get("callgrind_self"))
    incl_rows = parse_cg(prof.get("callgrind_inclusive"))
    if self_rows:
        lines.append("callgrind (instructions, 64 MiB upload), top "
                     "functions by own cost: " + "; ".join(
                         "%s %.1f%%" % (name, pct)
                         for pct, name in self_rows[:4]))
    crypto = sum(p for p, n in self_rows if "libcrypto" in n)
    part = next((p for p, n in incl_rows if "ferry_sha256_hex" in n), None)
    if crypto and part is not None:
        lines.append("SHA-256 in libcrypto: %.1f%% of ferry's instructions;"
                     " of that, the per-part payload hash (ferry_sha256_hex"
                     ", for x-amz-content-sha256) %.1f%% and the whole-file "
                     "hash (EVP_DigestUpdate in reader_main's fold_hash) "
                     "about %.1f%%" % (crypto, part, crypto - part))
    return "\n".join("- " + ln for ln in lines)


def profile_text(doc):
    prof = doc["profile"]
    m = doc["meta"]
    out = ["ferry CPU profile, %s" % doc["generated"],
           "machine: %d x %s, Linux %s" % (m["nproc"], m["cpu"], m["kernel"]),
           ""]
    out += prof.get("header", [])
    out.append("")
    out.append("Hardware counters (perf stat -e instructions): %s" % (
        "available" if prof.get("hw_counters") else
        "<not supported> in this VM, so perf stat shows software events "
        "only, perf record samples on cpu-clock, and callgrind counts "
        "instructions"))
    out += ["", "== Summary", "", profile_summary(prof), ""]
    if prof.get("perf_stat"):
        out += ["== perf stat (software events), 1 GiB to the sink", "",
                prof["perf_stat"], ""]
    if prof.get("perf_dso"):
        out += ["== perf record -e cpu-clock: share of samples by library",
                "", prof["perf_dso"], ""]
    if prof.get("perf_symbols"):
        out += ["== perf record: by library and symbol (libcrypto is "
                "stripped, so its samples, SHA-256 by callgrind below, are "
                "summed into one row)", "", prof["perf_symbols"], ""]
    if prof.get("callgrind_self"):
        out += ["== valgrind --tool=callgrind, 64 MiB file to the sink "
                "(%.0f s under valgrind): top functions by own "
                "instructions (Ir)" % prof.get("callgrind_s", 0), "",
                prof["callgrind_self"], ""]
    if prof.get("callgrind_inclusive"):
        out += ["== callgrind: top functions by inclusive instructions", "",
                prof["callgrind_inclusive"], ""]
    return "\n".join(out) + "\n"


# --- chart --------------------------------------------------------------

def chart(doc, summary, path):
    if not shutil.which("gnuplot"):
        return "gnuplot not installed: no chart"
    tmp = tempfile.mkdtemp(prefix="ferry-bench-plot.")
    try:
        plots = []
        for server, wl in BLOCK_ORDER:
            rows = [s for s in summary if s["server"] == server and
                    s["workload"] == wl and s["runs_ok"]]
            if not rows:
                continue
            f = os.path.join(tmp, "%s-%s.dat" % (server, wl))
            with open(f, "w") as out:
                for s in rows:
                    out.write('"%s" %.3f %.3f\n' % (
                        s["tool"], s["median_wall_s"], s["median_cpu_s"]))
            plots.append(("%s: %s" % (SERVER_NAMES[server],
                                      label(doc, wl)), f))
        rss = []
        for server, wl in (("sink", "big1g"), ("sink", "big4g")):
            for tool in ("ferry", "ferry-tuned"):
                s = find(summary, server, wl, tool)
                if s:
                    part, conc = ferry_setting(doc, tool)
                    rss.append(("%s %s" % (tool, human(
                        doc["workloads"][wl]["bytes"])),
                        s["median_max_rss_mib"],
                        (part * conc + RSS_SLACK) / MiB))
        sp = doc.get("sparse")
        if sp and sp["status"] == "ok":
            rss.append(("ferry %s sparse" % human(sp["bytes"]),
                        sp["max_rss_mib"],
                        (DEFAULT_PART * DEFAULT_CONCURRENCY + RSS_SLACK)
                        / MiB))
        if rss:
            f = os.path.join(tmp, "rss.dat")
            with open(f, "w") as out:
                for name, v, b in rss:
                    out.write('"%s" %.1f %.1f\n' % (name, v, b))
        n = len(plots) + (1 if rss else 0)
        cols = 3 if n > 4 else 2
        rows_n = (n + cols - 1) // cols
        g = ["set terminal pngcairo size %d,%d font 'sans,10'" % (
                 cols * 560, rows_n * 430),
             "set output '%s'" % path,
             "set multiplot layout %d,%d title \"ferry upload benchmark: "
             "medians of %d run(s), %s\" font 'sans,13'" % (
                 rows_n, cols, doc["meta"]["runs"], doc["generated"][:10]),
             "set style data histograms",
             "set style histogram clustered gap 1",
             "set style fill solid 0.85 border -1",
             "set boxwidth 0.9", "set grid ytics",
             "set xtics rotate by -35 scale 0 font 'sans,9'",
             "set key top left", "set yrange [0:*]",
             "set offsets 0, 0, graph 0.18, 0",
             "set bmargin 5"]
        for title, f in plots:
            g += ["set title '%s'" % title, "set ylabel 'seconds'",
                  "plot '%s' using 2:xtic(1) title 'wall s' lc rgb "
                  "'#4477aa', '' using 3 title 'client CPU s' lc rgb "
                  "'#ee6677'" % f]
        if rss:
            g += ["set title 'ferry peak RSS vs its bound'",
                  "set ylabel 'MiB'",
                  "plot '%s' using 2:xtic(1) title 'peak RSS' lc rgb "
                  "'#228833', '' using 3 title 'parts x part size + 32 MiB'"
                  " lc rgb '#bbbbbb'" % os.path.join(tmp, "rss.dat")]
        g.append("unset multiplot")
        script = os.path.join(tmp, "chart.gp")
        with open(script, "w") as out:
            out.write("\n".join(g) + "\n")
        r = subprocess.run(["gnuplot", script], capture_output=True,
                           text=True)
        if r.returncode:
            return "gnuplot failed: " + r.stderr.strip()[-300:]
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(doc, outdir, prefix):
    tmp = os.path.join(outdir, prefix + ".json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, prefix + ".json"))


def write_all(doc, outdir, prefix="latest"):
    os.makedirs(outdir, exist_ok=True)
    write_json(doc, outdir, prefix)  # the raw runs first, whatever follows
    doc["summary"] = summarise(doc)
    doc["targets"] = targets(doc, doc["summary"])
    os.makedirs(outdir, exist_ok=True)
    problem = chart(doc, doc["summary"],
                    os.path.join(outdir, prefix + ".png"))
    if problem:
        doc.setdefault("notes", []).append(problem)
    write_json(doc, outdir, prefix)
    with open(os.path.join(outdir, prefix + ".md"), "w") as f:
        f.write(markdown(doc))
    if doc.get("profile"):
        with open(os.path.join(outdir, "profile.txt"), "w") as f:
            f.write(profile_text(doc))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.dirname(
        os.path.abspath(sys.argv[1]))
    prefix = os.path.splitext(os.path.basename(sys.argv[1]))[0]
    write_all(doc, out, prefix)
    print(markdown(doc))


if __name__ == "__main__":
    main()
