#!/usr/bin/env python3
"""report.py - the table of scripts/bench.sh from its results file.

Each line of RESULTS: CASE <tab> sealgate|postfix <tab> LABEL <tab>
key=value ... (load.py, latency.py or idle.py output). With several
rounds of a case, the median is shown. Throughput: higher is better, the
target is sealgate >= 2x Postfix; latency: lower is better, the target
is sealgate's p99 <= Postfix's; memory: < 64 KiB per idle connection.
Rows marked "info" have no target. Exit status 1 if a target was missed.
"""
import statistics
import sys


def kv(s):
    return dict(x.split("=", 1) for x in s.split())


def main():
    rows = {}
    order = []
    for line in open(sys.argv[1]):
        case, who, label, data = line.rstrip("\n").split("\t", 3)
        if case not in rows:
            rows[case] = {"label": label, "sealgate": [], "postfix": []}
            order.append(case)
        rows[case][who].append(kv(data))

    table = []      # (label, sg, pf, ratio, target, verdict)
    fails = 0

    def med(runs, key):
        v = [float(r[key]) for r in runs if key in r]
        return statistics.median(v) if v else None

    for case in order:
        r = rows[case]
        sg, pf = r["sealgate"], r["postfix"]
        if case == "memory":
            b = med(sg, "rss_per_conn_b")
            ok = b is not None and b < 64 * 1024
            fails += not ok
            table.append(("memory per idle ingress connection (KiB)",
                          "%.1f" % (b / 1024.0), "-", "-", "< 64 KiB",
                          "ok" if ok else "MISSED"))
            continue
        if case == "latency":
            for key, name, target in (("p50_ms", "p50", None),
                                      ("p99_ms", "p99", 1.0)):
                s, p = med(sg, key), med(pf, key)
                ratio = s / p if p else float("inf")
                if target is None:
                    verdict, tgt = "info", "-"
                else:
                    ok = ratio <= target
                    fails += not ok
                    verdict, tgt = ("ok" if ok else "MISSED"), "<= 1.00x"
                table.append(("latency %s MAIL->sink, 1 conn, 4 KiB plain (ms)" % name,
                              "%.2f" % s, "%.2f" % p, "%.2fx" % ratio,
                              tgt, verdict))
            continue
        s, p = med(sg, "rate"), med(pf, "rate")
        ratio = s / p if p else float("inf")
        ok = ratio >= 2.0
        fails += not ok
        table.append((r["label"], "%.0f" % s, "%.0f" % p, "%.2fx" % ratio,
                      ">= 2.00x", "ok" if ok else "MISSED"))
        cs = (med(sg, "cpu_relay") or 0) + (med(sg, "cpu_db") or 0)
        cp = med(pf, "cpu_relay") or 0
        table.append(("  CPU per message, relay+db (ms)", "%.2f" % cs,
                      "%.2f" % cp, "%.2fx" % (cs / cp if cp else 0), "-",
                      "info"))
        ss = (med(sg, "cpu_sink") or 0) + (med(sg, "cpu_load") or 0)
        ps = (med(pf, "cpu_sink") or 0) + (med(pf, "cpu_load") or 0)
        table.append(("  CPU per message, sink+smtp-source (ms)",
                      "%.2f" % ss, "%.2f" % ps, "-", "-", "info"))
        s, p = med(sg, "src_elapsed"), med(pf, "src_elapsed")
        n = med(sg, "got")
        table.append(("  ingress only: all 250s (msg/s)", "%.0f" % (n / s),
                      "%.0f" % (n / p), "%.2fx" % (p / s), "-", "info"))

    head = ("case", "sealgate", "Postfix", "ratio", "target", "")
    w = [max(len(str(x[i])) for x in table + [head]) for i in range(6)]
    fmt = "%%-%ds  %%%ds  %%%ds  %%%ds  %%-%ds  %%s" % tuple(w[:5])
    print()
    print(fmt % head)
    print("-" * (sum(w) + 12))
    for t in table:
        print(fmt % t)
    print()
    print("targets missed: %d" % fails)
    for case in order:
        for who in ("sealgate", "postfix"):
            for i, run in enumerate(rows[case][who]):
                if float(run.get("other", 0)) >= 10:
                    print("WARNING: %s %s run %d: other jobs took %s%% of "
                          "the machine; its figure is low" %
                          (case, who, i + 1, run["other"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
