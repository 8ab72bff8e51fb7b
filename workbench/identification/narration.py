r"""The prose of an ID derivation: what each line of the algorithm did, and why.

:func:`~workbench.identification.identify` records bare steps (which line fired, on
which sets); the sentences a reader sees are written here, one template per line,
and rendered by :mod:`~workbench.identification.derivation`.

Examples
--------
>>> print(latex_set({"x", "y"}), latex_set(set()))
\{x, y\} \emptyset
>>> print(action(2, {"kept": {"x", "y"}, "dropped": {"w"}}))
keep only the ancestors $\{x, y\}$ of the outcome; sum out $\{w\}$.
"""

from __future__ import annotations

from typing import Mapping

from workbench.identification.expressions import latex_name

__all__ = ["LINE_TITLES", "latex_names", "latex_set", "query_latex", "action", "justification"]

LINE_TITLES = {
    1: "no treatment left: marginalise",
    2: "drop non-ancestors of the outcome",
    3: "add treatments that cannot affect the outcome",
    4: "factorise over the c-components of G \\ X",
    5: "fail: a hedge",
    6: "a c-component of G: product of conditionals",
    7: "recurse into the larger c-component",
}

_WHY = {
    1: "marginalisation (no intervention is left).",
    2: ("non-ancestors of $Y$ cannot influence it: removing them (and the treatments among "
        "them) leaves $P_x(y)$ unchanged."),
    3: ("rule 3 of do-calculus: $(Y \\perp W \\mid X)$ in "
        "$G_{\\overline{X}, \\overline{W}}$."),
    4: "c-component factorisation (Tian & Pearl 2002).",
    5: "these two c-forests form a hedge.",
    6: "c-component factorisation; rule 2 turns each $do$ into conditioning.",
    7: "c-component factorisation: $Q$ is the distribution of $S'$ under $do(V \\setminus S')$.",
}


def latex_names(nodes) -> str:
    """The nodes' LaTeX names, sorted, comma-separated.

    Examples
    --------
    >>> latex_names({"b", "a"})
    'a, b'
    """
    return ", ".join(latex_name(v) for v in sorted(nodes, key=str))


def latex_set(nodes) -> str:
    r"""``\{a, b\}``, or ``\emptyset`` for no nodes.

    Examples
    --------
    >>> print(latex_set(["z"]))
    \{z\}
    """
    return r"\{" + latex_names(nodes) + r"\}" if nodes else r"\emptyset"


def query_latex(y, x, joint: bool) -> str:
    """The sub-query ``P_x(y)`` (``Q_x(y)`` when the current distribution is a factor).

    Examples
    --------
    >>> query_latex({"y"}, {"x"}, True), query_latex({"y"}, set(), False)
    ('P_{x}(y)', 'Q(y)')
    """
    sub = "_{" + latex_names(x) + "}" if x else ""
    return f"P{sub}({latex_names(y)})" if joint else f"Q{sub}({latex_names(y)})"


def action(line: int, facts: Mapping) -> str:
    r"""What line ``line`` did, in Markdown with inline LaTeX, from the sets it recorded.

    Examples
    --------
    >>> print(action(1, {"summed": {"z"}}))
    sum $\{z\}$ out of the distribution.
    """
    f = facts
    if line == 1:
        return f"sum ${latex_set(f['summed'])}$ out of the distribution." if f["summed"] else "nothing to sum out."
    if line == 2:
        return (f"keep only the ancestors ${latex_set(f['kept'])}$ of the outcome; "
                f"sum out ${latex_set(f['dropped'])}$.")
    if line == 3:
        return (f"add $W = {latex_set(f['w'])}$ to the treatments: in $G_{{\\overline{{X}}}}$ they "
                "are not ancestors of $Y$.")
    if line == 4:
        names = ", ".join(f"${latex_set(c)}$" for c in f["districts"])
        return (f"$G \\setminus X$ has c-components {names}; multiply their "
                f"interventional factors and sum out ${latex_set(f['summed'])}$.")
    if line == 5:
        return (f"$G$ is a single c-component ${latex_set(f['graph'])}$ and so is $G \\setminus X = "
                f"{latex_set(f['district'])}$.")
    if line == 6:
        return (f"$S = {latex_set(f['district'])}$ is a c-component of $G$: multiply "
                "$P(v_i \\mid v_\\pi^{(i-1)})$ over $S$"
                + (f" and sum out ${latex_set(f['summed'])}$." if f["summed"] else "."))
    return (f"$S = {latex_set(f['district'])}$ lies inside the c-component $S' = {latex_set(f['bigger'])}$: "
            "recurse on $G_{S'}$ with $Q = \\prod_{v_i \\in S'} P(v_i \\mid v_\\pi^{(i-1)})$.")


def justification(line: int) -> str:
    """The do-calculus rule or factorisation that makes line ``line`` valid.

    Examples
    --------
    >>> justification(4)
    'c-component factorisation (Tian & Pearl 2002).'
    """
    return _WHY[line]
