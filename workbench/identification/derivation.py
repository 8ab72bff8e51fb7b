"""The derivation trace of the ID algorithm: steps in order, rendered for a reader.

Every call of a line of ID (Shpitser & Pearl 2006, Fig. 3) appends one
:class:`Step`: which line fired, on which sub-query ``P_x(y)``, which sets and which
c-component it looked at. The words (what was done, and which rule of do-calculus or
which factorisation justifies it) come from :mod:`~workbench.identification.narration`.
:class:`Derivation` renders the list as Markdown (with inline ``$...$`` LaTeX, which
``ipywidgets.HTMLMath`` and Jupyter display) or as plain LaTeX.

Examples
--------
>>> from workbench.graphs import admg
>>> from workbench.identification import identify
>>> d = identify(admg([("x", "y")]), "x", "y").derivation
>>> d.lines, d.steps[0].title
([6], 'a c-component of G: product of conditionals')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.identification.expressions import Expression
from workbench.identification.narration import LINE_TITLES, action, justification, query_latex

__all__ = ["Step", "Derivation", "LINE_TITLES"]


@dataclass
class Step:
    """One line of the ID algorithm as it fired: the bare facts; the prose is derived.

    Attributes
    ----------
    line : int
        The line of the algorithm (1-7).
    depth : int
        Recursion depth (0 for the top-level query).
    y, x : frozenset
        The sub-query's outcomes and treatments.
    joint : bool
        Whether the current distribution is the observational joint ``P`` (else a factor ``Q``).
    facts : dict
        The sets the line looked at (e.g. ``{"w": ...}`` for line 3), read by
        :func:`~workbench.identification.narration.action`.
    component : frozenset or None
        The c-component (district) the step is about, if any.
    returned : Expression or None
        The expression this call returned (filled in when it returns); :attr:`result`
        is its LaTeX, rendered only when read (a derivation is built on every run of ID
        and read far less often).

    Examples
    --------
    >>> s = Step(1, 0, frozenset({"y"}), frozenset(), True, {"summed": frozenset({"z"})})
    >>> print(s.query, s.action)
    P(y) sum $\\{z\\}$ out of the distribution.
    """

    line: int
    depth: int
    y: frozenset
    x: frozenset
    joint: bool
    facts: dict = field(default_factory=dict)
    component: frozenset | None = None
    returned: Expression | None = None

    @property
    def result(self) -> str | None:
        """LaTeX of the expression this call returned, or None before it returns."""
        return None if self.returned is None else self.returned.to_latex()

    @property
    def title(self) -> str:
        """The line's short title."""
        return LINE_TITLES[self.line]

    @property
    def query(self) -> str:
        """LaTeX of the sub-query being answered, e.g. ``P_{x}(y)``."""
        return query_latex(self.y, self.x, self.joint)

    @property
    def action(self) -> str:
        """What was done, in Markdown with inline LaTeX."""
        return action(self.line, self.facts)

    @property
    def justification(self) -> str:
        """The do-calculus rule or factorisation that makes it valid."""
        return justification(self.line)

    def to_markdown(self) -> str:
        """One Markdown bullet, indented by depth."""
        indent = "    " * self.depth
        text = (f"{indent}- **Line {self.line}** ({self.title}) on ${self.query}$: {self.action}"
                f" *Why:* {self.justification}")
        if self.result is not None:
            text += f" Result: ${self.result}$"
        return text


@dataclass
class Derivation:
    """The ordered steps of one run of ID.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> from workbench.identification import identify
    >>> d = identify(admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")]), "x", "y").derivation
    >>> d.lines, len(d)
    ([4, 2, 6, 7, 2, 1], 6)
    """

    steps: list = field(default_factory=list)

    def add(self, step: Step) -> Step:
        """Append ``step`` and return it (its ``returned`` is filled in later)."""
        self.steps.append(step)
        return step

    @property
    def lines(self) -> list[int]:
        """The algorithm's line numbers in the order they fired."""
        return [s.line for s in self.steps]

    def to_markdown(self) -> str:
        """The steps as a nested Markdown list."""
        return "\n".join(s.to_markdown() for s in self.steps)

    def to_latex(self) -> str:
        """A LaTeX ``enumerate`` of the steps (for a paper or a report)."""
        items = []
        for s in self.steps:
            title = s.title.replace("\\", "$\\setminus$")
            body = (f"\\textbf{{Line {s.line}}} ({title}), "
                    f"$\\,{s.query}$: {s.action} \\emph{{Why:}} {s.justification}")
            if s.result is not None:
                body += f" Result: ${s.result}$."
            items.append("  \\item " + body.replace("**", ""))
        return "\\begin{enumerate}\n" + "\n".join(items) + "\n\\end{enumerate}"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"<Derivation: lines {self.lines}>"

    def __len__(self) -> int:
        return len(self.steps)
