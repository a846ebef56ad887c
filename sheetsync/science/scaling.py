"""Scaling-law fits of a baseline's ladder, as the literature fits them.

compute form     L(C)    = E + A * C^-alpha
parametric form  L(N, D) = E + A / N^alpha + B / D^beta     (Hoffmann et al. 2022, approach 3)

Both minimise a Huber loss (delta 1e-3) of log-space residuals (`sheetsync.science.fitting`:
a grid of exponents with the linear part solved exactly, then a batched Levenberg-Marquardt).
This module holds the ladder and the fit as records, and refuses ladders that cannot
support a form.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import FitError

FORMS = ("compute", "parametric")


@dataclass(frozen=True)
class Ladder:
    """Finished baseline runs at several sizes: compute (FLOPs) and final loss, optionally
    parameters N and tokens D."""

    compute: tuple[float, ...]
    loss: tuple[float, ...]
    params: tuple[float, ...] | None = None
    tokens: tuple[float, ...] | None = None
    runs: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.loss)

    def to_dict(self) -> dict[str, Any]:
        return {
            "compute": list(self.compute),
            "loss": list(self.loss),
            "params": list(self.params) if self.params else None,
            "tokens": list(self.tokens) if self.tokens else None,
            "runs": list(self.runs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ladder:
        def t(key: str) -> tuple[float, ...] | None:
            return tuple(float(v) for v in data[key]) if data.get(key) else None

        return cls(
            t("compute") or (),
            t("loss") or (),
            t("params"),
            t("tokens"),
            tuple(data.get("runs") or ()),
        )


def read_ladder_csv(path: Path) -> Ladder:
    """A ladder from a CSV: columns `compute,loss` or `params,tokens,loss` (+ optional `run`)."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise FitError(f"{path}: cannot read the ladder ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    cols = {c.strip() for c in reader.fieldnames or []}
    if not ({"compute", "loss"} <= cols or {"params", "tokens", "loss"} <= cols):
        raise FitError(f"{path}: a ladder CSV needs columns compute,loss or params,tokens,loss")
    values: dict[str, list[float]] = {k: [] for k in ("compute", "loss", "params", "tokens")}
    runs = []
    for line, row in enumerate(reader, 2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for key in ("compute", "loss", "params", "tokens"):
            if key not in cols:
                continue
            try:
                number = float(row[key])
            except ValueError:
                raise FitError(f"{path}:{line}: {key} {row[key]!r} is not a number") from None
            if not math.isfinite(number) or number <= 0:
                raise FitError(f"{path}:{line}: {key} must be a positive finite number")
            values[key].append(number)
        runs.append(row.get("run") or f"line {line}")
    has_nd = {"params", "tokens"} <= cols
    compute = (
        values["compute"]
        if "compute" in cols
        else [6.0 * n * d for n, d in zip(values["params"], values["tokens"], strict=True)]
    )
    return Ladder(
        tuple(compute),
        tuple(values["loss"]),
        tuple(values["params"]) if has_nd else None,
        tuple(values["tokens"]) if has_nd else None,
        tuple(runs),
    )


@dataclass(frozen=True)
class Fit:
    """A fitted law: parameters named as in the formulas (E, A, alpha; B, beta)."""

    form: str
    params: dict[str, float]
    n_runs: int
    compute_min: float
    compute_max: float
    residual_rms: float
    tokens_per_param: float | None = None
    ladder: Ladder | None = field(default=None, compare=False)
    quality: dict[str, Any] | None = field(default=None, compare=False)  # science.quality
    floor: float | None = None  # E pinned by the person who fitted (`fit --floor`), else None

    @property
    def flags(self) -> tuple[str, ...]:
        """What a reviewer would raise about this fit (see `sheetsync.science.quality`)."""
        flags = (self.quality or {}).get("flags") or ()
        return tuple(str(f) for f in flags)

    @property
    def fit_id(self) -> str:
        named: dict[str, Any] = {
            "form": self.form,
            **{k: round(v, 6) for k, v in self.params.items()},
        }
        if self.floor is not None:  # a pinned fit is another fit (and another bootstrap)
            named["floor"] = self.floor
        text = json.dumps(named, sort_keys=True)
        return self.form + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]

    def predict(self, compute: float) -> float:
        """The law's loss at a compute budget (parametric: along the ladder's D/N)."""
        p = self.params
        if self.form == "compute":
            return p["E"] + p["A"] * compute ** -p["alpha"]
        r = self.tokens_per_param or 20.0
        n = math.sqrt(compute / (6.0 * r))
        return p["E"] + p["A"] * n ** -p["alpha"] + p["B"] * (r * n) ** -p["beta"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            **self.params,
            "n_runs": self.n_runs,
            "compute_min": self.compute_min,
            "compute_max": self.compute_max,
            "residual_rms": self.residual_rms,
            "tokens_per_param": self.tokens_per_param,
            "ladder": self.ladder.to_dict() if self.ladder else None,
            "quality": self.quality,
            **({"floor": self.floor} if self.floor is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fit:
        names = ("E", "A", "alpha") + (("B", "beta") if data["form"] == "parametric" else ())
        ladder = Ladder.from_dict(data["ladder"]) if data.get("ladder") else None
        return cls(
            data["form"],
            {k: float(data[k]) for k in names},
            int(data["n_runs"]),
            float(data["compute_min"]),
            float(data["compute_max"]),
            float(data["residual_rms"]),
            data.get("tokens_per_param"),
            ladder,
            data["quality"] if isinstance(data.get("quality"), dict) else None,
            float(data["floor"]) if data.get("floor") is not None else None,
        )


def _check(ladder: Ladder, form: str) -> None:
    if form not in FORMS:
        raise FitError(f"unknown form {form!r}: use compute or parametric")
    need = 4 if form == "compute" else 6
    if len(ladder) < need:
        raise FitError(
            f"the {form} form needs at least {need} finished ladder runs, "
            f"the ladder has {len(ladder)}"
        )
    arrays = [ladder.compute, ladder.loss] + (
        [ladder.params, ladder.tokens] if form == "parametric" else []
    )
    if form == "parametric" and (ladder.params is None or ladder.tokens is None):
        raise FitError("the parametric form needs params and tokens for every ladder run")
    for arr in arrays:
        if not all(math.isfinite(v) and v > 0 for v in arr or ()):
            raise FitError("the ladder has a non-finite or non-positive compute or loss")
    if len(set(ladder.compute)) < 3:
        raise FitError("the ladder's runs are all at one or two sizes; a law needs a range")
    if form == "parametric" and (
        len(set(ladder.params or ())) < 3 or len(set(ladder.tokens or ())) < 3
    ):
        raise FitError("the parametric form needs ladder runs that vary N and D separately")
    if form == "parametric":
        import numpy as np

        log_n, log_d = np.log(ladder.params or ()), np.log(ladder.tokens or ())
        slope, intercept = np.polyfit(log_n, log_d, 1)
        if np.std(log_d - (slope * log_n + intercept)) < 0.05:
            raise FitError(
                "the parametric form needs ladder runs that vary N and D separately; in this "
                "ladder D is a fixed function of N, so use the compute form"
            )


def ladder_sizes(ladder: Ladder, form: str) -> object:
    """What the fitting code takes as sizes: compute (compute form) or (params, tokens)."""
    import numpy as np

    if form == "compute":
        return np.asarray(ladder.compute, dtype=float)
    return np.vstack([ladder.params, ladder.tokens]).astype(float)


def fit_ladder(
    ladder: Ladder,
    form: str = "compute",
    start: dict[str, float] | None = None,
    floor: float | None = None,
) -> Fit:
    """Fit the ladder; `start` (a previous fit's parameters) replaces the grid of starts;
    `floor` pins the irreducible loss E (a short ladder cannot tell E from A and alpha)."""
    import numpy as np

    from sheetsync.science.fitting import fit
    from sheetsync.science.law import residuals, tokens_per_param

    _check(ladder, form)
    x = ladder_sizes(ladder, form)
    params = fit(x, ladder.loss, form, start=start, floor=floor)
    rms = float(np.sqrt(np.mean(residuals(params, x, ladder.loss, form) ** 2)))
    tpp = tokens_per_param(ladder.params, ladder.tokens) if form == "parametric" else None
    return Fit(
        form,
        params,
        len(ladder),
        min(ladder.compute),
        max(ladder.compute),
        rms,
        tpp,
        ladder,
        floor=None if floor is None else float(floor),
    )
