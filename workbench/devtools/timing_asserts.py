"""Find assertions that compare a measured duration against a number.

A test that asserts "this took under 0.3 s" passes alone and fails on a loaded
machine; one such test blocks every submission. Speed belongs in ``benchmarks/``
(reported, never failing). :func:`timing_assertions` reads a test file's syntax tree
and reports every ``assert`` whose comparison involves a *measured duration*:

* a clock call (``time.perf_counter()``, ``time.time()``, ``monotonic``, ``process_time``,
  ``timeit``...), or a name assigned from one (``start``, ``elapsed``), or a list such
  values were appended to (``times``), followed through assignments;
* an attribute named like a duration (``.seconds``, ``.elapsed``, ``.duration``,
  ``.wall_s``, ``.last_update_s``: a name ending in ``_s`` or ``_ms``).

An ordering comparison (``<``, ``<=``, ``>``, ``>=``) of such a value is reported,
except ``> 0`` and ``>= 0``: a measurement can only grow on a busy machine, so a
positivity check cannot fail for load. Equality (a fake clock's exact value) is allowed.

Examples
--------
>>> timing_assertions("def test_a():\\n    t0 = time.perf_counter()\\n    f()\\n"
...                   "    assert time.perf_counter() - t0 < 0.3\\n")
[Finding(line=4, code='time.perf_counter() - t0 < 0.3')]
>>> timing_assertions("def test_b(run):\\n    assert run.wall_s > 0\\n")
[]
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = ["Finding", "timing_assertions"]

CLOCKS = {"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns",
          "process_time", "process_time_ns", "thread_time", "default_timer", "timeit"}
DURATION_NAME = re.compile(r"(^|_)(seconds|secs|elapsed|duration|durations|times|timings)$|_(s|ms)$")
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class Finding:
    """One offending comparison: its line and source text.

    Examples
    --------
    >>> [f.line for f in timing_assertions("assert a\\nassert result.seconds < 1.0\\n")]
    [2]
    >>> Finding(2, "result.seconds < 1.0").code
    'result.seconds < 1.0'
    """

    line: int
    code: str


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name in CLOCKS


def _tainted_names(tree: ast.AST) -> set:
    """Names that hold a clock reading or something computed from one (to a fixpoint)."""
    tainted: set = set()

    def measured(expr) -> bool:
        return any(_is_clock_call(n) or (isinstance(n, ast.Name) and n.id in tainted)
                   for n in ast.walk(expr))

    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets, value = [node.target], node.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("append", "extend", "add") and node.args):
                targets, value = [node.func.value], node.args[0]
            if value is None or not measured(value):
                continue
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and n.id not in tainted:
                        tainted.add(n.id)
                        changed = True
    return tainted


def _is_duration(expr: ast.AST, tainted: set) -> bool:
    for n in ast.walk(expr):
        if _is_clock_call(n) or (isinstance(n, ast.Name) and n.id in tainted):
            return True
        if isinstance(n, ast.Attribute) and DURATION_NAME.search(n.attr):
            return True
    return False


def _is_zero(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == 0 and not isinstance(expr.value, bool)


def timing_assertions(source: str) -> list[Finding]:
    """Every assertion in ``source`` that bounds a measured duration (see the module doc).

    Examples
    --------
    >>> source = '''
    ... def test_fast():
    ...     times = []
    ...     for _ in range(3):
    ...         start = time.perf_counter()
    ...         times.append(time.perf_counter() - start)
    ...     assert max(times) < 0.1        # flaky on a busy machine: reported
    ...     assert len(times) == 3         # not a duration: fine
    ...     assert result.elapsed >= 0     # positivity cannot fail for load: fine
    ... '''
    >>> timing_assertions(source)
    [Finding(line=7, code='max(times) < 0.1')]
    """
    tree = ast.parse(source)
    tainted = _tainted_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        for cmp in ast.walk(node.test):
            if not isinstance(cmp, ast.Compare):
                continue
            operands = [cmp.left, *cmp.comparators]
            for op, left, right in zip(cmp.ops, operands, operands[1:]):
                if not isinstance(op, ORDERING):
                    continue
                if not (_is_duration(left, tainted) or _is_duration(right, tainted)):
                    continue
                positivity = (isinstance(op, (ast.Gt, ast.GtE)) and _is_zero(right)) or \
                    (isinstance(op, (ast.Lt, ast.LtE)) and _is_zero(left))
                if not positivity:
                    found.append(Finding(cmp.lineno, ast.get_source_segment(source, cmp) or ""))
                    break
    return found
