#!/usr/bin/python3
# bench/report.py - turns scripts/bench's results.tsv into bench/results/<date>.md and a gnuplot PNG.
# Usage: report.py RESULTS.tsv VERSIONS.txt STARTUP.txt SECONDS REPORT.md CHART.png WORKDIR
import csv
import os
import subprocess
import sys

results, versions, startup, seconds, report, chart, work = sys.argv[1:8]
encrypted = sys.argv[8] if len(sys.argv) > 8 else ""
rows = list(csv.DictReader(open(results), delimiter="\t"))
# Several rounds per (target, workload): keep the best, lowest CPU per query at the fixed rates,
# highest QPS elsewhere.
by = {}
for r in rows:
    k = (r["target"], r["workload"])
    if k in by:
        old = by[k]
        if r["workload"] in ("udp-hit-40k", "udp-hit-80k"):
            better = float(r["cpu_us_per_q"]) < float(old["cpu_us_per_q"])
        else:
            better = float(r["qps"]) > float(old["qps"])
        if not better:
            r = dict(old)
        r["rss_kib"] = str(max(int(old["rss_kib"] or 0), int(by[k]["rss_kib"] or 0), int(r["rss_kib"] or 0)))
    by[k] = r
targets = []
for r in rows:
    if r["target"] not in targets:
        targets.append(r["target"])
peers = [t for t in targets if t not in ("dnsproxy",) and not t.startswith("floor")]
floors = [t for t in targets if t.startswith("floor")]


def val(target, workload, field):
    r = by.get((target, workload))
    if not r or r[field] == "":
        return None
    return float(r[field])


def ratio(a, b):
    return "%.2f×" % (a / b) if a is not None and b else "–"


WORKLOADS = [
    ("udp-hit", "UDP cache hit, full speed (dnsperf -c 4 -q 500)", "qps"),
    ("udp-hit-40k", "UDP cache hit at 40k QPS (dnsperf -Q 40000): forwarder CPU per query", "cpu_us_per_q"),
    ("udp-hit-80k", "UDP cache hit at 80k QPS (dnsperf -Q 80000): forwarder CPU per query", "cpu_us_per_q"),
    ("udp-miss", "UDP cache miss, unique names (dnsperf -c 4 -q 100)", "qps"),
    ("tcp-hit", "TCP cache hit (dnsperf -m tcp -c 8 -q 200)", "qps"),
]

def encrypted_section(path, by):
    """The encrypted stage's table and the targets of issue 19, as markdown lines."""
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return []
    enc = list(csv.DictReader(open(path), delimiter="\t"))
    rows = {(r["target"], r["metric"]): r for r in enc}
    na = rows.get(("dnsproxy", "n/a"))
    names = ["dnsproxy", "unbound", "dnsdist"]
    names = [t for t in names if any(k[0] == t for k in rows) or (t, "dot-hit") in by]

    def cell(t, kind):
        if t == "dnsproxy" and na:
            return "n/a"
        if kind in ("dot-hit", "doh-hit"):
            r = by.get((t, kind))
            if not r:
                return "–"
            note = " (lost %s / %s)" % (r["lost"], r["sent"]) if int(r["lost"] or 0) * 10 > int(r["sent"] or 1) else ""
            return "%s%s" % (r["qps"], note)
        r = rows.get((t, kind))
        if not r:
            return "–"
        if kind == "dot-handshake":
            us = float(r["cpu_us"] or 0)
            return "%s/s, %s µs CPU each = %s/s per core" % (r["value"], r["cpu_us"], "%.0f" % (1e6 / us) if us else "–")
        return "%s (%s)" % (r["value"], r["detail"])

    out = ["## Encrypted front ends (issue 19)\n",
           "Certificate for dns.test from a throwaway CA; the same hit names; forwarder on core 0, "
           "load on core 1. dnsperf does not verify certificates, nor does bench/dot_client.c.\n"]
    out.append("| row | " + " | ".join(names) + " |")
    out.append("|---|" + "---:|" * len(names))
    for kind, title in (("dot-hit", "DoT cache hit, QPS (dnsperf -m dot -c 8 -q 200)"),
                        ("doh-hit", "DoH cache hit, QPS (dnsperf -m doh, HTTP/2 GET, -c 8 -q 200)"),
                        ("dot-handshake", "new DoT clients (full handshake, one query, close): measured rate, server CPU per client, 1 s / that"),
                        ("dot-idle", "memory per idle DoT client, KiB (RSS before -> after)")):
        out.append("| %s | %s |" % (title, " | ".join(cell(t, kind) for t in names)))
    out.append("")
    if na:
        out.append("dnsproxy: %s\n" % na["detail"])
    out.append("| target | measured | met |")
    out.append("|---|---|---|")
    for kind, peers_, want in (("dot-hit", ("unbound", "dnsdist"), "DoT hit QPS ≥ 1.5× the better peer"),
                               ("doh-hit", ("unbound",), "DoH hit QPS ≥ 1.5× unbound")):
        d = None if na else val("dnsproxy", kind, "qps")
        ref = [(val(p, kind, "qps"), p) for p in peers_ if val(p, kind, "qps")]
        if d is None or not ref:
            out.append("| %s | not measured | – |" % want)
            continue
        best, who = max(ref)
        out.append("| %s | %.0f vs %s %.0f = %.2f× | %s |" % (want, d, who, best, d / best, verdict(d >= 1.5 * best)))
    out.append("")
    return out


out = []
out.append("# scripts/bench results, %s\n" % os.path.basename(report)[:-3])
out.append("Same machine, same run, same DoT upstream (unbound with local data on loopback, TLS verified "
           "by every forwarder). Forwarder and upstream pinned to core 0, dnsperf to core 1; %s s per run. "
           "All targets run at once and the hit workloads go round them in turn; each row is the best of "
           "the rounds (lowest CPU per query at fixed rates, highest QPS otherwise), so load from elsewhere "
           "on the machine hits every target alike. "
           "Ratios are dnsproxy / peer: above 1 is better for QPS, below 1 is better for CPU per query. "
           "stubby has no cache, so its \"hit\" runs go to the upstream every time. dnsperf 2.10 reports no "
           "percentiles, so there is no p99.\n" % seconds)
out.append("```\n" + open(versions).read().strip() + "\n```\n")

for workload, title, figure in WORKLOADS:
    present = [t for t in targets if (t, workload) in by]
    if not present:
        continue
    out.append("## %s\n" % title)
    hdr = "| target | QPS | avg latency ms | lost / sent | CPU s | CPU µs/query | peak RSS MiB |"
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    if workload == "udp-miss":
        hdr += " TLS conns to upstream |"
        sep += "---:|"
    if figure and any(t == "dnsproxy" for t in present):
        hdr += " dnsproxy / this |"
        sep += "---:|"
    out.append(hdr)
    out.append(sep)
    for t in present:
        r = by[(t, workload)]
        line = "| %s | %s | %s | %s / %s | %s | %s | %.1f |" % (
            t, r["qps"], r["avg_ms"], r["lost"], r["sent"], r["cpu_s"], r["cpu_us_per_q"],
            int(r["rss_kib"] or 0) / 1024)
        if workload == "udp-miss":
            line += " %s |" % r["tls_conns"]
        if "dnsproxy" in present:
            line += " %s |" % ("" if t == "dnsproxy" else ratio(val("dnsproxy", workload, figure), val(t, workload, figure)))
        out.append(line)
    out.append("")

plain = any(w in ("udp-hit", "udp-miss", "tcp-hit") for _, w in by)
# Targets of issue 9.
if plain:
    out.append("## Targets (issue 9)\n")
    out.append("| # | target | measured | met |")
    out.append("|---|---|---|---|")


def verdict(ok):
    return "yes" if ok else "**no**"


for rate in ("40k", "80k"):
    w = "udp-hit-" + rate
    d = val("dnsproxy", w, "cpu_us_per_q")
    ref = [val(p, w, "cpu_us_per_q") for p in ("dnsdist", "unbound") if val(p, w, "cpu_us_per_q")]
    if d and ref:
        best = min(ref)
        out.append("| 1 | CPU/query at %s ≤ 0.85× min(dnsdist, unbound) | %.2f µs vs %.2f µs = %.2f× (floor mmsg %s) | %s |" % (
            rate, d, best, d / best, ratio(val("floor-mmsg", w, "cpu_us_per_q"), best), verdict(d <= 0.85 * best)))
d = val("dnsproxy", "udp-hit", "qps")
ref = [val(p, "udp-hit", "qps") for p in peers if val(p, "udp-hit", "qps")]
if d and ref:
    out.append("| 2 | full-speed hit QPS ≥ best peer | %.0f vs %.0f = %.2f× | %s |" % (d, max(ref), d / max(ref), verdict(d >= max(ref))))
d = val("dnsproxy", "udp-miss", "qps")
if d:
    parts, ok = [], True
    for p, want in (("unbound", 1.1), ("stubby", 2.0), ("dnsdist", 2.0)):
        v = val(p, "udp-miss", "qps")
        if v:
            parts.append("%.2f× %s (want %.1f×)" % (d / v, p, want))
            ok = ok and d >= want * v
    conns = by[("dnsproxy", "udp-miss")]["tls_conns"]
    lost = by[("dnsproxy", "udp-miss")]["lost"]
    out.append("| 3 | miss QPS ≥ 1.1× unbound, ≥ 2× stubby, dnsdist; one TLS connection | %.0f QPS: %s; %s TLS conn(s), %s lost | %s |" % (
        d, ", ".join(parts), conns, lost, verdict(ok and conns == "1")))
d = val("dnsproxy", "tcp-hit", "qps")
v = val("dnsdist", "tcp-hit", "qps")
if d and v:
    out.append("| 4 | TCP hit QPS ≥ dnsdist | %.0f vs %.0f = %.2f× | %s |" % (d, v, d / v, verdict(d >= v)))
rss = max(int(by[("dnsproxy", w)]["rss_kib"] or 0) for w, _, _ in WORKLOADS if ("dnsproxy", w) in by) / 1024 if ("dnsproxy", "udp-hit") in by else None
st = open(startup).read().split()
if rss is not None:
    line = "| 5 | peak RSS ≤ 48 MiB; start-up with 100,000 entries ≤ 1 s | %.1f MiB" % rss
    if len(st) >= 3:
        line += "; %s entries loaded in %s s, listening %s s after exec (RSS then %.1f MiB)" % (
            st[0], st[1], st[2], int(st[3]) / 1024 if len(st) > 3 else 0)
    ok = rss <= 48 and len(st) >= 3 and float(st[2]) <= 1.0
    out.append(line + " | %s |" % verdict(ok))
out.append("")
out.extend(encrypted_section(encrypted, by))
if plain:
    out.append("![chart](%s)\n" % os.path.basename(chart))
open(report, "w").write("\n".join(out))
if not plain:
    sys.exit(0)

# Chart: two panels, CPU per query at the fixed rates and QPS of the throughput runs.
dat = os.path.join(work, "chart.dat")
with open(dat, "w") as f:
    f.write("target hit40k hit80k udphit udpmiss tcphit\n")
    for t in targets:
        f.write("%s %s %s %s %s %s\n" % (t, *[
            (lambda v: "%.3f" % v if v is not None else "0")(val(t, w, fld)) for w, fld in (
                ("udp-hit-40k", "cpu_us_per_q"), ("udp-hit-80k", "cpu_us_per_q"),
                ("udp-hit", "qps"), ("udp-miss", "qps"), ("tcp-hit", "qps"))]))
gp = """
set terminal pngcairo size 1200,500 font ",10"
set output '%s'
set multiplot layout 1,2 title 'scripts/bench %s (forwarder + DoT upstream on one core)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left autotitle columnhead
set xtics rotate by -30
set grid ytics
set title 'UDP cache hit: forwarder CPU per query (µs, lower is better)'
plot '%s' using 2:xtic(1), '' using 3
set title 'Throughput (queries/s, higher is better)'
plot '%s' using 4:xtic(1), '' using 5, '' using 6
unset multiplot
""" % (chart, os.path.basename(report)[:-3], dat, dat)
try:
    subprocess.run(["gnuplot"], input=gp.encode(), check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print("# gnuplot failed: %s" % e, file=sys.stderr)
