#!/usr/bin/env python3
"""Charts and tables from bench/run-peers.sh's output, for docs/benchmarks.md.

Usage: /usr/bin/python3 bench/plot.py RESULTS_DIR [--ours asyncio-cpp]

Reads RESULTS_DIR/raw.txt (KEY=VALUE lines: `WORKLOAD PEER key=value ... run=N`) and writes into
RESULTS_DIR:
  ratios.png        per workload, how many times better this library is than each peer (median
                    over runs of the ratio measured within one run; > 1 = ours is better)
  w6_by_size.png    W6 echo messages per second by message size, one line per peer
  w6_p99_by_size.png  W6 echo p99 latency by message size
  summary.md        the same numbers as markdown tables (medians, [min-max] over runs)
Needs python3-matplotlib (Debian), hence /usr/bin/python3 (a pyenv python3 first on PATH lacks it).
"""
from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

# (workload, metric, label, better)
RATIO_METRICS = [
    ("W1", "ns_per_switch", "W1 task switch", "lower"),
    ("W2", "ns_per_task", "W2 spawn", "lower"),
    ("W3", "bytes_per_task", "W3 bytes/sleeping task", "lower"),
    ("W4", "ns_per_roundtrip", "W4 event ping-pong", "lower"),
    ("W5", "ns_per_acquire", "W5 lock", "lower"),
    ("W6_64", "msgs_per_s", "W6 echo 64 B", "higher"),
    ("W6_16k", "msgs_per_s", "W6 echo 16 KiB", "higher"),
]
PEER_ORDER = ["asyncio-cpp", "asio", "tokio", "go", "cpython-uvloop", "cpython-asyncio", "micropython"]


def load(path: Path):
    """(workload, peer, metric) -> {run: value}"""
    data: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0].startswith("#") or parts[0] in ("SKIP", "FAIL"):
            continue
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        run = kv.pop("run", "1")
        for key, value in kv.items():
            try:
                data[(parts[0], parts[1], key)][run] = float(value)
            except ValueError:
                pass
    return data


def peers_in(data) -> list[str]:
    found = {peer for (_, peer, _) in data}
    return [p for p in PEER_ORDER if p in found] + sorted(found - set(PEER_ORDER))


def ratio(data, w, metric, better, ours, peer):
    """Median over runs of (ours better than peer by) within the same run, or None."""
    a, b = data.get((w, ours, metric), {}), data.get((w, peer, metric), {})
    per_run = [b[r] / a[r] if better == "lower" else a[r] / b[r] for r in a if r in b and a[r] and b[r]]
    return statistics.median(per_run) if per_run else None


def number(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def cell(values: dict[str, float]) -> str:
    if not values:
        return "–"
    v = sorted(values.values())
    text = number(statistics.median(v))
    if len(v) >= 3:
        text += f" <sub>[{number(v[0])}–{number(v[-1])}]</sub>"
    return text


def sizes_in(data) -> list[int]:
    return sorted({int(w[4:]) for (w, _, _) in data if w.startswith("W6_S")})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results_dir", type=Path)
    ap.add_argument("--ours", default="asyncio-cpp")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = args.results_dir
    data = load(out / "raw.txt")
    peers = peers_in(data)
    others = [p for p in peers if p != args.ours]
    md = [f"# Results in {out.name}", ""]

    # Ratios: one group of bars per workload, one bar per peer.
    rows = [(label, [ratio(data, w, m, b, args.ours, p) for p in others]) for (w, m, label, b) in RATIO_METRICS]
    rows = [r for r in rows if any(v is not None for v in r[1])]
    if rows:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / max(1, len(others))
        for i, peer in enumerate(others):
            xs = [j + i * width for j in range(len(rows))]
            ax.bar(xs, [r[1][i] or 0 for r in rows], width, label=peer)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks([j + width * (len(others) - 1) / 2 for j in range(len(rows))])
        ax.set_xticklabels([r[0] for r in rows], rotation=20, ha="right")
        ax.set_ylabel(f"{args.ours} better by (×, log scale)")
        ax.set_title(f"{args.ours} against each peer (> 1: {args.ours} is faster / smaller)")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / "ratios.png", dpi=110)
        md += ["## How many times better than each peer (> 1 = better)", "",
               "| workload | " + " | ".join(others) + " |", "| --- |" + " ---: |" * len(others)]
        md += ["| " + label + " | " + " | ".join("–" if v is None else f"{v:.2f}" for v in vals) + " |"
               for label, vals in rows]
        md.append("")

    # Medians of every primary metric.
    md += ["## Medians [min–max] over runs", "", "| metric | " + " | ".join(peers) + " |",
           "| --- |" + " ---: |" * len(peers)]
    for w, m, label, _ in RATIO_METRICS:
        if any((w, p, m) in data for p in peers):
            md.append(f"| {label}: {m} | " + " | ".join(cell(data.get((w, p, m), {})) for p in peers) + " |")
    md.append("")

    # W6 by message size.
    sizes = sizes_in(data)
    for metric, fname, ylabel in (("msgs_per_s", "w6_by_size.png", "messages/s (higher is better)"),
                                  ("p99_us", "w6_p99_by_size.png", "p99 latency µs (lower is better)")):
        if not sizes:
            break
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for peer in peers:
            pts = [(s, statistics.median(data[(f"W6_S{s}", peer, metric)].values()))
                   for s in sizes if data.get((f"W6_S{s}", peer, metric))]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=peer,
                        linewidth=2.5 if peer == args.ours else 1.2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{s // 1024} KiB" if s >= 1024 else f"{s} B" for s in sizes])
        ax.set_xlabel("message size (50 connections, closed loop)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"W6 echo: {ylabel.split(' (')[0]} by message size")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        md += [f"## W6 echo by message size: {metric}", "", "| size | " + " | ".join(peers) + " |",
               "| ---: |" + " ---: |" * len(peers)]
        md += [f"| {s} | " + " | ".join(cell(data.get((f'W6_S{s}', p, metric), {})) for p in peers) + " |"
               for s in sizes]
        md.append("")
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print(f"plot: wrote {out}/summary.md and the charts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
