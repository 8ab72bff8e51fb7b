"""List the public functions and classes of `workbench` whose docstring has no runnable example.

Usage (from the repository root)::

    .venv/bin/python scripts/missing_examples.py            # counts per module, then the total
    .venv/bin/python scripts/missing_examples.py --names    # every missing name as path:name
    .venv/bin/python scripts/missing_examples.py --methods  # public methods with no docstring

"Public" means a top-level `def` or `class` whose name does not start with an underscore;
"a runnable example" means a `>>>` line in its docstring (the suite runs them as doctests).
The checks live in `workbench.devtools.structure`; `tests/test_package_structure.py` fails
when either list is not empty (outside the areas it still allows).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.devtools.structure import missing_examples, undocumented

ROOT = Path(__file__).resolve().parents[1] / "workbench"


def missing(root: Path = ROOT, methods: bool = False) -> dict[str, list[str]]:
    """Missing names, keyed by module path relative to the repository root."""
    check = undocumented if methods else missing_examples
    found = {}
    for path in sorted(root.rglob("*.py")):
        names = check(path.read_text())
        if names:
            found[str(path.relative_to(root.parent))] = names
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", action="store_true", help="print every missing name")
    parser.add_argument("--methods", action="store_true", help="public methods with no docstring")
    args = parser.parse_args()
    found = missing(methods=args.methods)
    for module, names in sorted(found.items(), key=lambda item: -len(item[1])):
        if args.names:
            print("\n".join(f"{module}:{name}" for name in names))
        else:
            print(f"{len(names):4d}  {module}")
    print(f"total {sum(map(len, found.values()))}")


if __name__ == "__main__":
    main()
