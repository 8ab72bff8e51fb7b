"""The derivation trace of the ID algorithm: steps in order, rendered for a reader.

Every call of a line of ID (Shpitser & Pearl 2006, Fig. 3) appends one
:class:`Step`: which line fired, on which sub-query ``P_x(y)``, which c-component it
looked at, and which rule of do-calculus or which factorisation justifies it.
:class:`Derivation` renders the list as Markdown (with inline ``$...$`` LaTeX, which
``ipywidgets.HTMLMath`` and Jupyter display) or as plain LaTeX.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Step", "Derivation", "LINE_TITLES"]

LINE_TITLES = {
    1: "no treatment left: marginalise",
    2: "drop non-ancestors of the outcome",
    3: "add treatments that cannot affect the outcome",
    4: "factorise over the c-components of G \\ X",
    5: "fail: a hedge",
    6: "a c-component of G: product of conditionals",
    7: "recurse into the larger c-component",
}


@dataclass
class Step:
    """One line of the ID algorithm as it fired.

    Attributes
    ----------
    line : int
        The line of the algorithm (1-7).
    depth : int
        Recursion depth (0 for the top-level query).
    query : str
        LaTeX of the sub-query being answered, e.g. ``P_{x}(y)``.
    action : str
        What was done, in Markdown with inline LaTeX.
    justification : str
        The do-calculus rule or factorisation that makes it valid.
    component : frozenset or None
        The c-component (district) the step is about, if any.
    result : str or None
        LaTeX of the expression this call returned (filled in when it returns).
    """

    line: int
    depth: int
    query: str
    action: str
    justification: str
    component: frozenset | None = None
    result: str | None = None

    @property
    def title(self) -> str:
        return LINE_TITLES[self.line]

    def to_markdown(self) -> str:
        indent = "    " * self.depth
        text = (f"{indent}- **Line {self.line}** ({self.title}) on ${self.query}$: {self.action}"
                f" *Why:* {self.justification}")
        if self.result is not None:
            text += f" Result: ${self.result}$"
        return text


@dataclass
class Derivation:
    """The ordered steps of one run of ID."""

    steps: list = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    @property
    def lines(self) -> list[int]:
        """The algorithm's line numbers in the order they fired."""
        return [s.line for s in self.steps]

    def to_markdown(self) -> str:
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
