#!/usr/bin/env python3
"""Reads the JSON that ../shared/bench/compare.py wrote for each scenario and prints the
figures Switchboard's performance goals are stated in, each beside its goal.

  ratios.py --single results/D-single.json --seed results/D-seed.json --stream results/D-stream.json

Any file may be missing (that line then says so). Ratios are taken within one run only:
absolute figures from different runs on these noisy machines are not comparable.
"""
import argparse, json, os, re, sys


def load(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def pick(results, system, rate):
    for r in results:
        if r["system"] == system and str(r["rate"]) == str(rate):
            return r
    return None


def peak_rss(results, system):
    values = [r["rss_mib"] for r in results if r["system"] == system and r.get("rss_mib") is not None]
    return max(values) if values else None


def log_drops(paths):
    """Request logs dropped, summed over the gateway logs given: each run ends with the writer's
    "request log writer drained" line (written=N dropped=M). None when no log has that line."""
    found, dropped, written = False, 0, 0
    for path in paths:
        if not os.path.exists(path):
            continue
        for line in open(path, errors="replace"):
            if "request log writer drained" in line:
                found = True
                dropped += int((re.search(r"dropped\W+(\d+)", line) or [0, 0])[1])
                written += int((re.search(r"written\W+(\d+)", line) or [0, 0])[1])
    return (dropped, written) if found else (None, None)


class Report:
    def __init__(self):
        self.rows, self.missed = [], 0

    def goal(self, name, value, goal, ok, fmt="{:.2f}"):
        if value is None:
            self.rows.append((name, "n/a", goal, "not measured"))
            return
        verdict = "met" if ok(value) else "MISSED"
        self.missed += verdict == "MISSED"
        self.rows.append((name, fmt.format(value), goal, verdict))

    def info(self, name, value, fmt="{:.2f}"):
        self.rows.append((name, "n/a" if value is None else fmt.format(value), "–", "info"))

    def print(self):
        print("| measure | ours | goal | verdict |")
        print("|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--single")
    ap.add_argument("--seed")
    ap.add_argument("--stream")
    ap.add_argument("--ours-log", action="append", default=[],
                    help="a gateway log of ours (compare.py's /tmp/bench-ours.log), for the log drop count")
    ap.add_argument("--rate", default="1000", help="the fixed rate whose p99 the goal is stated at")
    a = ap.parse_args()
    single, seed, stream = load(a.single), load(a.seed), load(a.stream)
    rep = Report()
    max_of = lambda res, sys_: (pick(res, sys_, "max") or {}).get("rps")
    ours_max, nginx_max, portkey_max = max_of(single, "ours"), max_of(single, "nginx"), max_of(single, "portkey")
    rep.goal("single: max rps, ours / nginx", ratio(ours_max, nginx_max), "≥ 0.6", lambda v: v >= 0.6)
    rep.goal("single: max rps, ours / portkey", ratio(ours_max, portkey_max), "≥ 10", lambda v: v >= 10)
    ours_c1, direct_c1 = pick(single, "ours", "c1"), pick(single, "direct", "c1")
    added = ours_c1["p50_ms"] - direct_c1["p50_ms"] if ours_c1 and direct_c1 else None
    rep.goal("single: added p50 at c=1 vs direct (ms)", added, "≤ 0.12", lambda v: v <= 0.12, "{:+.3f}")
    p99 = (pick(single, "ours", a.rate) or {}).get("p99_ms")
    rep.goal(f"single: p99 at {a.rate} rps (ms)", p99, "≤ 1", lambda v: v <= 1.0, "{:.3f}")
    rss = max(filter(None, [peak_rss(single, "ours"), peak_rss(seed, "ours"), peak_rss(stream, "ours")]), default=None)
    rep.goal("peak RSS, any scenario (MiB)", rss, "≤ 30", lambda v: v <= 30, "{:.1f}")
    nolog_max = max_of(single, "ours_nolog")
    kept = ratio(ours_max, nolog_max)
    rep.goal("single: max rps lost to request logging (1 - ours / ours_nolog)",
             None if kept is None else 1 - kept, "≤ 0.10", lambda v: v <= 0.10)
    seed_max = max_of(seed, "ours")
    seed_kept = ratio(seed_max, max_of(seed, "ours_nolog"))
    rep.goal("seed: max rps lost to request logging (1 - ours / ours_nolog)",
             None if seed_kept is None else 1 - seed_kept, "≤ 0.10", lambda v: v <= 0.10)
    dropped, written = log_drops(a.ours_log)
    rep.goal("request logs dropped, all scenarios (max load included)", dropped, "0", lambda v: v == 0, "{:d}")
    rep.info("request logs written, all scenarios", written, "{:d}")
    rep.goal("seed: max rps, ours / nginx single-target", ratio(seed_max, nginx_max), "≥ 0.45", lambda v: v >= 0.45)
    rep.info("seed: max rps, ours / portkey (same tree)", ratio(seed_max, max_of(seed, "portkey")))
    rep.info("seed: p99 at rate (ms)", (pick(seed, "ours", a.rate) or {}).get("p99_ms"), "{:.3f}")
    s_ours, s_nginx = max_of(stream, "ours"), max_of(stream, "nginx")
    rep.info("stream: max rps, ours / nginx", ratio(s_ours, s_nginx))
    rep.info("stream: max rps, ours / portkey", ratio(s_ours, max_of(stream, "portkey")))
    s_c1, s_dc1 = pick(stream, "ours", "c1"), pick(stream, "direct", "c1")
    rep.info("stream: added p50 at c=1 vs direct (ms)",
             s_c1["p50_ms"] - s_dc1["p50_ms"] if s_c1 and s_dc1 else None, "{:+.3f}")
    rep.print()
    bad = [(name, r) for name, res in (("single", single), ("seed", seed), ("stream", stream))
           for r in res if r.get("ok_ratio", 1) < 1]
    for name, r in bad:
        print(f"WARNING {name}/{r['system']}/{r['rate']}: ok_ratio {r['ok_ratio']} errors {r.get('errors')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
