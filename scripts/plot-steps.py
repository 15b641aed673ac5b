#!/usr/bin/env python3
"""plot-steps.py OUT.svg NAME=RUN.csv ...: held-out field F1 against training
documents seen, one line per run, from the curves CSV that `docseek train`
writes (columns step and eval_f1; batch from --batch), drawn as OUT.svg and
printed as a Markdown table. Standard library only, so it needs nothing
beyond Debian's python3."""
import csv
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def read(path, batch):
    pts = []
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get("eval_f1"):
                pts.append((int(row["step"]) * batch, float(row["eval_f1"])))
    return pts


def print_table(runs):
    seen = sorted({x for _, p in runs for x, _ in p})
    print("| documents seen | " + " | ".join(name for name, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for x in seen:
        cells = [("%.3f" % dict(p)[x]) if x in dict(p) else "" for _, p in runs]
        print("| %d | " % x + " | ".join(cells) + " |")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: plot-steps.py OUT.svg [--batch N] NAME=RUN.csv ...")
    out, args, batch = sys.argv[1], sys.argv[2:], 4
    if args[0] == "--batch":
        batch, args = int(args[1]), args[2:]
    runs = []
    for a in args:
        name, path = a.split("=", 1)
        runs.append((name, read(path, batch)))
    print_table(runs)
    xmax = max((x for _, p in runs for x, _ in p), default=1)
    W, H, L, R, T, B = 640, 400, 60, 150, 20, 50
    sx = lambda x: L + (W - L - R) * x / xmax
    sy = lambda y: T + (H - T - B) * (1 - y)
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>']
    for i in range(6):  # F1 grid 0, 0.2, ... 1
        y = sy(i / 5)
        s.append(f'<line x1="{L}" y1="{y}" x2="{W - R}" y2="{y}" stroke="#ddd"/>')
        s.append(f'<text x="{L - 8}" y="{y + 4}" text-anchor="end">{i / 5:.1f}</text>')
    for i in range(5):
        x = sx(xmax * i / 4)
        s.append(f'<text x="{x}" y="{H - B + 18}" text-anchor="middle">{int(xmax * i / 4)}</text>')
    s.append(f'<line x1="{L}" y1="{sy(0)}" x2="{W - R}" y2="{sy(0)}" stroke="black"/>')
    s.append(f'<line x1="{L}" y1="{sy(0)}" x2="{L}" y2="{sy(1)}" stroke="black"/>')
    s.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">'
             'training documents seen</text>')
    s.append(f'<text x="15" y="{(T + H - B) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 15 {(T + H - B) / 2})">held-out field F1</text>')
    for k, (name, pts) in enumerate(runs):
        c = COLOURS[k % len(COLOURS)]
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        s.append(f'<polyline points="{line}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            s.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{c}"/>')
        ly = T + 16 * k + 10
        s.append(f'<line x1="{W - R + 12}" y1="{ly}" x2="{W - R + 32}" y2="{ly}" '
                 f'stroke="{c}" stroke-width="2"/>')
        s.append(f'<text x="{W - R + 38}" y="{ly + 4}">{name}</text>')
    s.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(s) + "\n")


if __name__ == "__main__":
    main()
