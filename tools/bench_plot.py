#!/usr/bin/env python3
"""make bench's plots, as SVG written directly (no plotting library to install).

   tools/bench_plot.py DIR    reads DIR/ratios.tsv and DIR/boot.tsv (tools/bench.sh writes
                              them), writes DIR/heap-ratios.svg and DIR/boot.svg

heap-ratios.svg: each heap benchmark's instructions over its reference's, lock excluded,
image and host side by side, with the aim (1.5x) drawn across. boot.svg: setup_mm's
instructions against the RAM it hands over, one point per boot.
"""
import sys
from pathlib import Path

FONT = 'font-family="sans-serif" font-size="12"'


def read_tsv(path):
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text().splitlines() if line.strip()]


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")


def ratios_plot(rows):
    """Horizontal bars: one pair (image, host) per benchmark."""
    left, top, bar, gap, scale_w = 170, 40, 10, 10, 420
    # Bars are cut at 4x (heap_order9's per-page work makes it 30x), labelled with the figure.
    top_ratio = min(max([1.5] + [max(float(r[1]), float(r[2])) for r in rows]), 4.0) * 1.1
    x = lambda v: left + min(v, top_ratio) / top_ratio * scale_w
    height = top + len(rows) * (2 * bar + gap) + 40
    body = [f'<text x="{left}" y="20" {FONT} font-weight="bold">instructions over the reference\'s, '
            'lock excluded</text>']
    for i, (name, image, host) in enumerate(rows):
        y = top + i * (2 * bar + gap)
        body.append(f'<text x="{left - 6}" y="{y + bar + 4}" {FONT} text-anchor="end">{name}</text>')
        for j, (value, colour) in enumerate(((float(image), "#4477aa"), (float(host), "#ee7733"))):
            yy = y + j * bar
            body.append(f'<rect x="{left}" y="{yy}" width="{x(value) - left:.1f}" height="{bar - 1}" '
                        f'fill="{colour}"/>')
            body.append(f'<text x="{x(value) + 3:.1f}" y="{yy + bar - 1}" font-family="sans-serif" '
                        f'font-size="9">{value:.2f}</text>')
    bottom = top + len(rows) * (2 * bar + gap)
    for v in (1.0, 1.5):
        dash = ' stroke-dasharray="4,3"' if v == 1.5 else ""
        body.append(f'<line x1="{x(v):.1f}" y1="{top - 5}" x2="{x(v):.1f}" y2="{bottom}" '
                    f'stroke="black"{dash}/>')
        body.append(f'<text x="{x(v):.1f}" y="{bottom + 14}" {FONT} text-anchor="middle">{v}x</text>')
    body.append(f'<rect x="{left}" y="{bottom + 22}" width="10" height="10" fill="#4477aa"/>'
                f'<text x="{left + 14}" y="{bottom + 31}" {FONT}>image (qemu -icount)</text>'
                f'<rect x="{left + 160}" y="{bottom + 22}" width="10" height="10" fill="#ee7733"/>'
                f'<text x="{left + 174}" y="{bottom + 31}" {FONT}>host (callgrind)</text>')
    return svg(left + scale_w + 80, height + 10, body)


def boot_plot(points):
    """setup_mm's instructions against RAM pages, both axes from zero."""
    left, top, w, h = 90, 40, 420, 240
    pages = [int(p) for p, _ in points]
    instr = [int(i) for _, i in points]
    max_x, max_y = max(pages) * 1.05, max(instr) * 1.1
    x = lambda v: left + v / max_x * w
    y = lambda v: top + h - v / max_y * h
    body = [f'<text x="{left}" y="20" {FONT} font-weight="bold">setup_mm: instructions against RAM '
            '(image, -icount)</text>',
            f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="black"/>',
            f'<text x="{left + w / 2}" y="{top + h + 32}" {FONT} text-anchor="middle">RAM (4 KiB pages)</text>',
            f'<text x="{left - 8}" y="{top - 8}" {FONT} text-anchor="end">instructions</text>']
    body.append('<polyline fill="none" stroke="#4477aa" points="' +
                " ".join(f"{x(p):.1f},{y(i):.1f}" for p, i in sorted(zip(pages, instr))) + '"/>')
    for p, i in zip(pages, instr):
        body.append(f'<circle cx="{x(p):.1f}" cy="{y(i):.1f}" r="3" fill="#4477aa"/>')
        body.append(f'<text x="{x(p) - 4:.1f}" y="{y(i) - 8:.1f}" {FONT} text-anchor="end">'
                    f'{i:,} ({i / p:.2f} per page)</text>')
        body.append(f'<text x="{x(p):.1f}" y="{top + h + 15}" {FONT} text-anchor="middle">{p:,}</text>')
    return svg(left + w + 40, top + h + 45, body)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_plot.py DIR")
    out = Path(sys.argv[1])
    rows = read_tsv(out / "ratios.tsv")
    points = read_tsv(out / "boot.tsv")
    if rows:
        (out / "heap-ratios.svg").write_text(ratios_plot(rows))
    if points:
        (out / "boot.svg").write_text(boot_plot(points))
    if not rows and not points:
        sys.exit(f"bench_plot: nothing to plot in {out}")


if __name__ == "__main__":
    main()
