"""Drawing string diagrams with matplotlib, read bottom to top as in the paper.

Each layer of a :class:`~workbench.diagrams.syntax.Diagram` is one row: wires are
vertical lines, a mechanism is a labelled box, a copy is a black dot, a discard is a
ground symbol, a permutation is crossing wires, and the ``do`` state of an
intervention is a red triangle. The discards that surgery put in (named ``cut(X)``)
are drawn in red with scissors: the cut wire is visible.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from workbench.diagrams.models import diagram_of, smoking_example
>>> fig = draw_surgery(diagram_of(smoking_example()), "smoking")
>>> [ax.get_title() for ax in fig.axes]
['before: the model', 'after: cut(smoking)']
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import html
from typing import Iterable

from workbench.diagrams.syntax import Diagram
from workbench.diagrams.surgery import cut

__all__ = ["draw", "draw_surgery", "CUT_COLOR", "ROUTE_TITLES", "query_table"]

CUT_COLOR = "#d62728"

ROUTE_TITLES = {
    "surgery": "surgery / comb on the observational joint",
    "do-calculus": "do-calculus estimand (identification)",
    "pyro do": "Pyro / ChiRho do on the SCM",
    "truth": "truth: surgery on the generating model",
}
WIRE = dict(color="0.25", lw=1.4, zorder=1)


def _line(ax, x0, y0, x1, y1, **kw):
    style = {**WIRE, **kw}
    ax.plot([x0, x1], [y0, y1], **style)


def _ground(ax, x, y, color):
    for i, half in enumerate((0.22, 0.14, 0.06)):
        ax.plot([x - half, x + half], [y - 0.07 * i, y - 0.07 * i], color=color, lw=1.6, zorder=2)


def _draw_layer(ax, layer, r: float, highlight: set, names: bool):
    import matplotlib.patches as mpatches

    b, left = layer.box, len(layer.left)
    k, m = len(b.dom), len(b.cod)
    for i in range(left):
        _line(ax, i, r, i, r + 1)
    for j in range(len(layer.right)):
        _line(ax, left + k + j, r, left + m + j, r + 1)
    if b.kind == "box":
        width = max(k, m, 1) - 1 + 0.8
        hot = b.name in highlight
        for i in range(k):
            _line(ax, left + i, r, left + i, r + 0.3)
        for j in range(m):
            _line(ax, left + j, r + 0.7, left + j, r + 1)
        ax.add_patch(mpatches.FancyBboxPatch(
            (left - 0.4, r + 0.3), width, 0.4, boxstyle="round,pad=0.02", zorder=3,
            facecolor="#fde0dd" if hot else "#e8eef7", edgecolor=CUT_COLOR if hot else "0.2",
            lw=2.2 if hot else 1.2))
        ax.text(left - 0.4 + width / 2, r + 0.5, b.name, ha="center", va="center", fontsize=9, zorder=4,
                parse_math=False)  # a "$" in a name is a character, not mathtext
    elif b.kind == "copy":
        _line(ax, left, r, left, r + 0.5)
        _line(ax, left, r + 0.5, left, r + 1)
        _line(ax, left, r + 0.5, left + 1, r + 1)
        ax.plot([left], [r + 0.5], "o", color="black", ms=5, zorder=4)
    elif b.kind == "discard":
        is_cut = b.name.startswith("cut(")
        color = CUT_COLOR if is_cut else "0.25"
        _line(ax, left, r, left, r + 0.45, color=color)
        _ground(ax, left, r + 0.45, color)
        if is_cut:
            _line(ax, left, r + 0.6, left, r + 1.0, color=CUT_COLOR, ls=":", lw=1.2)
            ax.text(left + 0.18, r + 0.62, "\u2702", color=CUT_COLOR, fontsize=12, va="center",
                    zorder=5)
    elif b.kind == "permute":
        for j, p in enumerate(b.data):
            _line(ax, left + p, r, left + j, r + 1)
    elif b.kind == "do":
        label = b.name if b.data is None else f"do({b.cod[0].name}={b.data})"
        ax.add_patch(mpatches.Polygon([[left - 0.3, r + 0.35], [left + 0.3, r + 0.35],
                                       [left, r + 0.7]], closed=True, facecolor=CUT_COLOR,
                                      edgecolor=CUT_COLOR, zorder=3))
        _line(ax, left, r + 0.7, left, r + 1, color=CUT_COLOR, lw=1.8)
        ax.text(left + 0.35, r + 0.45, label, color=CUT_COLOR, fontsize=9, va="center", zorder=4,
                parse_math=False)


def draw(diagram: Diagram, ax=None, *, title: str | None = None,
         highlight: Iterable[str] = (), names: bool = True):
    """Draw ``diagram`` on ``ax`` (a new figure if ``None``); return the axes.

    ``highlight`` names boxes to outline in red (the box about to be cut).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from workbench.diagrams.models import diagram_of, smoking_example
    >>> ax = draw(diagram_of(smoking_example()), title="smoking model")
    >>> ax.get_title()
    'smoking model'
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    rows = len(diagram.layers)
    widest = max([len(diagram.dom), len(diagram.cod)] + [len(l.dom) for l in diagram.layers]
                 + [len(l.cod) for l in diagram.layers] + [1])
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 1.1 * widest, 0.8 + 0.38 * rows))
    highlight = set(highlight)
    for r, layer in enumerate(diagram.layers):
        _draw_layer(ax, layer, r, highlight, names)
    if names:
        for i, w in enumerate(diagram.cod):
            ax.text(i, rows + 0.12, w.name, ha="center", va="bottom", fontsize=9, parse_math=False)
        for i, w in enumerate(diagram.dom):
            ax.text(i, -0.12, w.name, ha="center", va="top", fontsize=9, parse_math=False)
    ax.set_xlim(-0.8, widest + 0.6)
    ax.set_ylim(-0.5, rows + 0.6)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title, parse_math=False)
    return ax


def draw_surgery(diagram: Diagram, variable: str, value: int | None = None, *, figsize=None):
    """Two panels: the diagram with ``variable``'s box outlined, and the diagram after surgery.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from workbench.diagrams.models import diagram_of, smoking_example
    >>> fig = draw_surgery(diagram_of(smoking_example()), "tar")
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    after = cut(diagram, variable, value)
    rows = max(len(diagram.layers), len(after.layers))
    widest = max([len(l.dom) for l in after.layers + diagram.layers] + [1])
    fig, axes = plt.subplots(1, 2, figsize=figsize or (2 * (1.4 + 0.9 * widest), 0.9 + 0.34 * rows))
    draw(diagram, axes[0], title="before: the model", highlight=[variable])
    draw(after, axes[1], title=f"after: cut({variable})")
    for ax in axes:
        ax.set_ylim(-0.5, rows + 0.6)
    fig.tight_layout()
    return fig


def query_table(x: str, y: str, sizes, results: dict, agree: bool) -> str:
    """The HTML table of ``P(y | do(x))`` by every route; an error message is shown whole.

    ``results`` maps each route of :data:`workbench.diagrams.compare.ROUTES` to rows of
    probabilities (one row per value of ``x``) or to the message of the error it raised.

    Examples
    --------
    >>> rows = [[0.9, 0.1], [0.4, 0.6]]
    >>> results = {"surgery": rows, "do-calculus": rows, "pyro do": "not discrete", "truth": rows}
    >>> html_text = query_table("x", "y", {"x": 2, "y": 2}, results, agree=True)
    >>> html_text.count("<tr>"), "not discrete" in html_text
    (3, True)
    """
    from workbench.diagrams.compare import ROUTES

    ex, ey = html.escape(x), html.escape(y)
    head = "".join(f"<th style='padding:4px 10px'>{html.escape(ROUTE_TITLES[r])}</th>" for r in ROUTES)
    rows = []
    for v in range(sizes[x]):
        cells = []
        for r in ROUTES:
            a = results[r]
            if isinstance(a, str):
                if v == 0:
                    cells.append(f"<td rowspan='{sizes[x]}' style='color:#a00;max-width:22em;"
                                 f"white-space:normal;overflow-wrap:break-word'>{html.escape(a)}</td>")
            else:
                probs = ", ".join(f"{p:.4f}" for p in a[v])
                cells.append(f"<td style='padding:4px 10px;font-family:monospace'>[{probs}]</td>")
        rows.append(f"<tr><td><b>{ex}={v}</b></td>{''.join(cells)}</tr>")
    verdict = "all routes that apply agree with the truth" if agree else "routes DISAGREE"
    return (f"<p><b>P({ey} | do({ex}))</b>, each row a distribution over {ey} = 0..{sizes[y] - 1}; "
            f"{verdict}.</p><table><tr><th></th>{head}</tr>{''.join(rows)}</table>")
