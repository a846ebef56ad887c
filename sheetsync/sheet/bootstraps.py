"""A fit's bootstrap, computed once and kept in the project, so no later command refits.

`sheetsync fit` computes the resamples (seeded: anyone can reproduce them from the ladder the
Scaling tab records) and saves them under `.sheetsync/bootstraps/` beside sheetsync.yaml. A
colleague's machine without the file rebuilds it once, from the fit recorded in the sheet.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.errors import FitError
from sheetsync.project import Project
from sheetsync.records.atomic import replacing

if TYPE_CHECKING:
    from sheetsync.science.gain import Bootstrap
    from sheetsync.science.scaling import Fit

CACHE_DIR = Path(".sheetsync") / "bootstraps"
FORMAT = 1  # bump when the resampling scheme or the solver changes what a cache holds


def cache_key(fit: Fit, resamples: int, seed: int) -> str:
    """Names the fit, its ladder, the resampling and the solver: any change is a new file."""
    ladder = fit.ladder.to_dict() if fit.ladder else None
    text = json.dumps([FORMAT, fit.fit_id, ladder, resamples, seed], sort_keys=True)
    return f"{fit.fit_id}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cache_path(project: Project, fit: Fit, resamples: int, seed: int) -> Path | None:
    """The cache file of a fit's bootstrap; None when the fit's name (from the sheet) could
    not be a plain file name in the cache folder, so nothing is read or written for it."""
    name = f"{cache_key(fit, resamples, seed)}.npz"
    if not _FILE_NAME.fullmatch(name):
        return None
    return project.root / CACHE_DIR / name


_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,100}\.npz")


def bootstrap_for(
    project: Project | None, fit: Fit, resamples: int | None = None, seed: int = 0
) -> Bootstrap | None:
    """The fit's bootstrap from the project's cache, else computed (once) and saved there.

    None when the fit cannot be bootstrapped (no ladder recorded, too few sizes)."""
    from sheetsync.science.gain import RESAMPLES, bootstrap

    resamples = resamples or RESAMPLES
    path = cache_path(project, fit, resamples, seed) if project is not None else None
    if path is not None:
        cached = _load(path, fit)
        if cached is not None:
            return cached
    try:
        boot = bootstrap(fit, resamples=resamples, seed=seed)
    except FitError:
        return None
    if path is not None:
        _save(path, boot)
    return boot


def _load(path: Path, fit: Fit) -> Bootstrap | None:
    import numpy as np

    from sheetsync.science.gain import Bootstrap

    try:
        with np.load(path, allow_pickle=False) as data:
            params = {k[2:]: np.asarray(data[k], dtype=float) for k in data.files if k[:2] == "p_"}
    except (OSError, ValueError, KeyError, EOFError):
        return None  # missing or damaged: rebuilt by the caller
    names = {"E", "A", "alpha"} | ({"B", "beta"} if fit.form == "parametric" else set())
    if set(params) != names or len({len(v) for v in params.values()}) != 1:
        return None
    return Bootstrap(fit.form, params, fit.tokens_per_param)


def _save(path: Path, boot: Bootstrap) -> None:
    """Write atomically; a project folder that cannot be written only costs a recompute later."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path, durable=False) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **{f"p_{k}": v for k, v in boot.params.items()})
    except OSError:
        return
