"""What the review meeting reads, as data, shared by the report (views) and the Review tab
that `sync` writes, beside each method's verdict (`sheet.verdicts`): the runs that need
attention (each run once), and each fit's quality line. Pure functions of the sheet's
records."""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.records.names import BaselineRef
from sheetsync.vocab import Value, is_diverged, is_error, is_unfinished


def attention(records: Sequence[dict[str, Value]]) -> list[tuple[str, str, str]]:
    """(run, what, detail) of the runs that need a person's eye, each run once with all that
    is wrong with it: unfinished, diverged, files that cannot be read, config drift, a stale
    baseline."""
    out = []
    for r in records:
        status, checks = str(r.get("status") or ""), str(r.get("checks") or "")
        found: list[tuple[str, str]] = []
        if is_unfinished(status):
            found.append(("unfinished", status))
        elif is_diverged(status):
            found.append(("diverged", status))
        elif is_error(status):
            found.append(("error", status.removeprefix("error: ")))
        if "drift" in checks:
            found.append(("config drift", checks))
        if "stale" in checks and r.get("role") not in ("baseline", "ladder"):
            found.append(("stale baseline", BaselineRef.of_row(r)))
        if found:
            whats = ", ".join(w for w, _ in found)
            details = "; ".join(dict.fromkeys(d for _, d in found if d))
            out.append((str(r["run"]), whats, details))
    return out


def fit_lines(fits: Sequence[dict[str, Value]]) -> list[tuple[str, str, str, str]]:
    """Per baseline's newest fit: its name, rung count, how it predicts its largest rung when
    that rung is left out, and its flags (from the quality recorded with the fit)."""
    from sheetsync.sheet.gains import fits_in

    out = []
    for _, (name, fit) in sorted(fits_in(list(fits)).items()):
        rungs = (fit.quality or {}).get("rungs") or []
        largest = ""
        if rungs:
            top = rungs[(fit.quality or {}).get("largest", -1)]
            if top.get("held_out") is not None:
                largest = (
                    f"{top['run']}: predicts {top['held_out']:.4f}, observed {top['loss']:.4f} "
                    f"({top['held_out_error']:+.2%})"
                )
        out.append((name, str(len(rungs) or fit.n_runs), largest, "; ".join(fit.flags) or "none"))
    return out
