"""SCMs in files: a spec (:mod:`workbench.scm.spec`) written as JSON, atomically, and read back.

Examples
--------
>>> import os, tempfile
>>> from workbench.scm import asia
>>> path = save_scm(asia(), os.path.join(tempfile.mkdtemp(), "asia.json"))
>>> bool((load_scm(path).sample(5, seed=0)["dysp"] == asia().sample(5, seed=0)["dysp"]).all())
True
"""

from __future__ import annotations

import json
import os
import tempfile

from workbench.scm.model import SCM
from workbench.scm.spec import SpecError, scm_from_spec, scm_to_spec

__all__ = ["save_scm", "load_scm"]


def save_scm(scm: SCM, path: str | os.PathLike) -> str:
    """Write ``scm`` to ``path`` as JSON, atomically; return the path as a string.

    The text goes to a temporary file next to ``path``, which then replaces
    ``path`` in one step (:func:`os.replace`): a crash never leaves half a file.

    Examples
    --------
    >>> import os, tempfile
    >>> from workbench.scm import backdoor_example
    >>> path = save_scm(backdoor_example(), os.path.join(tempfile.mkdtemp(), "m.json"))
    >>> path.endswith("m.json")
    True
    """
    text = _dumps(scm_to_spec(scm))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".scm-", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _dumps(obj, indent: str = "") -> str:
    """JSON text with one key per line, and each list of numbers or names on one line."""
    if isinstance(obj, dict) and obj:
        inner = indent + "  "
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    return json.dumps(obj, allow_nan=False)


def load_scm(path: str | os.PathLike) -> SCM:
    """Read an SCM saved by :func:`save_scm` (see :func:`scm_from_spec` for the errors).

    Examples
    --------
    >>> import os, tempfile
    >>> from workbench.scm import backdoor_example
    >>> path = save_scm(backdoor_example(), os.path.join(tempfile.mkdtemp(), "m.json"))
    >>> load_scm(path).variables == backdoor_example().variables
    True
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{os.fspath(path)!r} is not valid JSON ({exc}); was it saved by save_scm?") from exc
    return scm_from_spec(spec)
