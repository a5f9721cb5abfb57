#!/usr/bin/python3
"""Checks that memory_plan.svg reads at a glance: every text fits inside the picture, the
legend sits above the chart, and the labels of the lines in the right margin are at least one
text line apart. Widths are estimated (about 7 px a character at 12 px). Prints one line per
problem and exits 1 if any, else prints "svg layout ok"."""
import sys
import xml.dom.minidom


def text_width(node):
    size = float(node.getAttribute("font-size") or 12)
    return len(node.firstChild.data) * size * 0.6


def main(path):
    svg = xml.dom.minidom.parse(path).documentElement
    width = float(svg.getAttribute("width"))
    lines = svg.getElementsByTagName("line")
    axes = [l for l in lines if l.getAttribute("stroke") == "#333"]
    chart_top = min(float(l.getAttribute("y1")) for l in axes)
    chart_right = max(float(l.getAttribute("x2")) for l in axes)
    problems = []
    margin_labels = []
    for node in svg.getElementsByTagName("text"):
        x, y = float(node.getAttribute("x")), float(node.getAttribute("y"))
        anchor = node.getAttribute("text-anchor")
        left = x - (text_width(node) if anchor == "end" else
                    text_width(node) / 2 if anchor == "middle" else 0)
        if left < 0 or left + text_width(node) > width:
            problems.append(f"text '{node.firstChild.data}' leaves the picture")
        if x > chart_right:
            margin_labels.append((y, node.firstChild.data))
    for rect in svg.getElementsByTagName("rect"):
        if rect.getAttribute("width") == "12" and float(rect.getAttribute("y")) >= chart_top:
            problems.append("a legend entry sits inside the chart")
    margin_labels.sort()
    for (y0, a), (y1, b) in zip(margin_labels, margin_labels[1:]):
        if y1 - y0 < 12:
            problems.append(f"labels '{a}' and '{b}' overlap ({y1 - y0:.1f} px apart)")
    for problem in problems:
        print(problem)
    if not problems:
        print("svg layout ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
