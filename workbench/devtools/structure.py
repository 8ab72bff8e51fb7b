"""Read the package's source and report what breaks its structural rules.

The rules (CONTRIBUTING.md): every public function and class shows a runnable example;
every public method says in one line what it does; no module is over 400 lines; no
module uses a private name of Pyro or ChiRho; no two modules import each other, even
inside a function. Each checker below takes source text (so it is easy to test) and
:func:`package_sources` reads a package tree into that form; ``tests/test_package_structure.py``
runs them all over ``workbench/``.

Examples
--------
>>> undocumented("class A:\\n    '''An A.'''\\n    def go(self):\\n        pass\\n")
['A.go']
>>> import_cycles({"p.a": "from p import b\\n", "p.b": "def f():\\n    from p.a import x\\n"})
[['p.a', 'p.b']]
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["package_sources", "missing_examples", "undocumented", "line_count",
           "private_names", "imports_of", "import_cycles"]

MAX_LINES = 400


def package_sources(root: Path) -> dict[str, str]:
    """Every module of the package at ``root``, as ``{dotted name: source}``.

    Parameters
    ----------
    root
        The package folder (the one holding its ``__init__.py``).

    Returns
    -------
    dict
        Keys like ``"workbench.scm.model"``; a package's ``__init__.py`` is its own name.

    Examples
    --------
    >>> import workbench
    >>> sources = package_sources(Path(workbench.__file__).parent)
    >>> "workbench.scm.model" in sources and "workbench.scm" in sources
    True
    """
    root = Path(root)
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name,) + path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path.read_text()
    return found


def _public(nodes):
    return [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("_")]


def missing_examples(source: str) -> list[str]:
    """Top-level public functions and classes whose docstring has no ``>>>`` example.

    Examples
    --------
    >>> missing_examples("def f():\\n    '''Add.\\n\\n    >>> 1 + 1\\n    2\\n    '''\\n"
    ...                  "def g():\\n    '''No example.'''\\n"
    ...                  "def _h():\\n    pass\\n")
    ['g']
    """
    return [n.name for n in _public(ast.parse(source).body)
            if ">>>" not in (ast.get_docstring(n) or "")]


def undocumented(source: str) -> list[str]:
    """Public methods (and properties) of public classes that have no docstring at all.

    Examples
    --------
    >>> undocumented("class A:\\n    def f(self):\\n        '''F.'''\\n"
    ...              "    def g(self):\\n        return 1\\n"
    ...              "    def _h(self):\\n        pass\\n")
    ['A.g']
    """
    return [f"{cls.name}.{m.name}"
            for cls in _public(ast.parse(source).body) if isinstance(cls, ast.ClassDef)
            for m in _public(cls.body) if not isinstance(m, ast.ClassDef) and not ast.get_docstring(m)]


def line_count(source: str) -> int:
    """The number of lines of a module, as ``wc -l`` counts them (the rule: at most 400).

    Examples
    --------
    >>> line_count("a = 1\\nb = 2\\n")
    2
    """
    return len(source.splitlines())


def private_names(source: str, packages: tuple[str, ...] = ("pyro", "chirho")) -> list[str]:
    """Private names of ``packages`` that a module imports or reaches by attribute.

    A private name is a dotted part that starts with one underscore (``_PYRO_STACK``,
    ``pyro.poutine._x``); dunders (``__version__``) are public.

    Examples
    --------
    >>> private_names("import pyro.poutine.runtime as rt\\nrt._PYRO_STACK\\n")
    ['pyro.poutine.runtime._PYRO_STACK']
    >>> private_names("from pyro.poutine.runtime import _PYRO_STACK, am_i_wrapped\\n")
    ['pyro.poutine.runtime._PYRO_STACK']
    >>> private_names("import pyro\\npyro.__version__, pyro.poutine.runtime.am_i_wrapped()\\n")
    []
    """
    def first_private(dotted: str) -> str | None:
        parts = dotted.split(".")
        for i, p in enumerate(parts):
            if p.startswith("_") and not p.startswith("__"):
                return ".".join(parts[: i + 1])
        return None

    def ours(module: str) -> bool:
        return module.split(".")[0] in packages

    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    reached = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if ours(a.name):
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                    reached.append(a.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and ours(node.module or ""):
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                reached.append(f"{node.module}.{a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [], node
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                reached.append(".".join([aliases[base.id], *reversed(chain)]))
    found = []
    for dotted in reached:
        name = first_private(dotted)
        if name and name not in found:
            found.append(name)
    return found


def imports_of(name: str, source: str, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports, anywhere in its body.

    Imports inside functions count too: a function-level import that closes a circle
    still ties the two modules together. ``from package import sub`` counts as an
    import of ``package.sub`` when that is a module, else of ``package`` itself.

    Examples
    --------
    >>> mods = {"p", "p.a", "p.b"}
    >>> sorted(imports_of("p.a", "from . import b\\nfrom p import c\\nimport os\\n", mods))
    ['p', 'p.b']
    """
    package = name if any(m.startswith(name + ".") for m in modules) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for a in node.names:
                if f"{origin}.{a.name}" in modules:
                    found.add(f"{origin}.{a.name}")
                elif origin in modules:
                    found.add(origin)
    found.discard(name)
    return found


def import_cycles(sources: dict[str, str]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a longer circle.

    Parameters
    ----------
    sources
        ``{dotted module name: source}``, e.g. from :func:`package_sources`.

    Returns
    -------
    list of list of str
        Each strongly connected group of two or more modules, sorted; empty when the
        imports form no circle.

    Examples
    --------
    >>> import_cycles({"p.a": "import p.b\\n", "p.b": "import p.c\\n", "p.c": "import p.a\\n"})
    [['p.a', 'p.b', 'p.c']]
    >>> import_cycles({"p.a": "import p.b\\n", "p.b": "x = 1\\n"})
    []
    """
    modules = set(sources)
    edges = {m: imports_of(m, src, modules) for m, src in sources.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    return sorted(groups)
