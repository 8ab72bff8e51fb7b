"""Tests of workbench.plots.graphs (graph drawing): what is drawn, how, and bad input."""

import matplotlib.pyplot as plt
import pytest

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.plots.graphs import HIGHLIGHT, draw_graph, layout
from workbench.plots.png import figure_to_png
from tests.fixtures_graphs import ALL, FRONT_DOOR, M_BIAS, NAPKIN


def patches(ax, prefix):
    return {p.get_gid(): p for p in ax.patches if p.get_gid() and p.get_gid().startswith(prefix)}


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_node_and_edge_is_drawn_once(name):
    g = ALL[name]
    ax = draw_graph(g)
    directed = getattr(g, "directed", g)
    bidirected = list(getattr(g, "bidirected", []).edges()) if hasattr(g, "bidirected") else []
    assert set(patches(ax, "node:")) == {f"node:{v}" for v in directed.nodes}
    assert set(patches(ax, "edge:")) == ({f"edge:{a}->{b}" for a, b in directed.edges()}
                                         | {f"edge:{a}<->{b}" for a, b in bidirected})
    plt.close(ax.figure)


def test_bidirected_edges_are_dashed_curved_and_double_headed():
    ax = draw_graph(NAPKIN)
    for gid, p in patches(ax, "edge:").items():
        if "<->" in gid:
            assert p.get_linestyle() == "--"
            assert p.get_connectionstyle().rad == 0.35
            assert type(p.get_arrowstyle()).__name__ == "CurveFilledAB"
        else:
            assert p.get_linestyle() == "-"
    plt.close(ax.figure)


def test_highlights_colour_nodes_and_thicken_edges():
    ax = draw_graph(FRONT_DOOR, highlight_nodes={"tar": "#ff0000"},
                    highlight_edges=[("cancer", "smoking"), ("smoking", "tar")])
    nodes, edges = patches(ax, "node:"), patches(ax, "edge:")
    assert nodes["node:tar"].get_facecolor()[:3] == (1.0, 0.0, 0.0)
    assert nodes["node:cancer"].get_facecolor()[:3] != (1.0, 0.0, 0.0)
    assert edges["edge:smoking<->cancer"].get_linewidth() > edges["edge:tar->cancer"].get_linewidth()
    import matplotlib.colors as mc
    assert mc.to_hex(edges["edge:smoking->tar"].get_edgecolor()) == HIGHLIGHT
    plt.close(ax.figure)


def test_latent_nodes_are_dashed():
    g = M_BIAS.copy()
    g.nodes["u1"]["latent"] = True
    ax = draw_graph(g)
    assert patches(ax, "node:")["node:u1"].get_linestyle() == "--"
    assert patches(ax, "node:")["node:x"].get_linestyle() == "-"
    assert patches(ax, "edge:")["edge:u1->x"].get_linestyle() == "--"
    plt.close(ax.figure)


def test_layout_puts_parents_left_of_children():
    pos = layout(M_BIAS)
    assert all(pos[a][0] < pos[b][0] for a, b in M_BIAS.edges())


def test_bad_highlights_raise():
    with pytest.raises(UnknownVariableError, match="Did you mean 'tar'"):
        draw_graph(FRONT_DOOR, highlight_nodes=["tarr"])
    with pytest.raises(WorkbenchInputError, match="not an edge"):
        draw_graph(FRONT_DOOR, highlight_edges=[("cancer", "tar")])
    with pytest.raises(WorkbenchInputError, match="not a string"):
        draw_graph(FRONT_DOOR, highlight_nodes="tar")
    plt.close("all")


def test_png_export():
    png = figure_to_png(draw_graph(FRONT_DOOR).figure)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
