"""List the public functions and classes of `workbench` whose docstring has no runnable example.

Usage (from the repository root)::

    .venv/bin/python scripts/missing_examples.py            # counts per module, then the total
    .venv/bin/python scripts/missing_examples.py --names    # every missing name as path:name

"Public" means a top-level `def` or `class` whose name does not start with an underscore;
"a runnable example" means a `>>>` line in its docstring (the suite runs them as doctests).
"""

from __future__ import annotations

import argparse
import ast
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "workbench"


def missing(root: Path = ROOT) -> dict[str, list[str]]:
    """Missing names, keyed by module path relative to ``root``."""
    found: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if ">>>" not in (ast.get_docstring(node) or ""):
                    found[str(path.relative_to(root))].append(node.name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", action="store_true", help="print every missing name")
    args = parser.parse_args()
    found = missing()
    for module, names in sorted(found.items(), key=lambda item: -len(item[1])):
        if args.names:
            print("\n".join(f"workbench/{module}:{name}" for name in names))
        else:
            print(f"{len(names):4d}  workbench/{module}")
    print(f"total {sum(map(len, found.values()))}")


if __name__ == "__main__":
    main()
