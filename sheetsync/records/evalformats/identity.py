"""Which results answer a column: identity = task + metric + filter + shots (+ limit), of the
run's own model; among those, the newest checkpoint, and repeats only where seeds differ."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sheetsync.records.evalformats.progress import latest
from sheetsync.records.evalformats.result import Found, Result, Unused

# What each task is usually reported as, for formats that carry no task config (lm-eval 0.3,
# native evals.json) and to choose among the metrics a harness config lists (acc, acc_norm).
USUAL_METRICS = {
    "hellaswag": "acc_norm,none",
    "arc_challenge": "acc_norm,none",
    "arc_easy": "acc_norm,none",
    "piqa": "acc_norm,none",
    "openbookqa": "acc_norm,none",
    "winogrande": "acc,none",
    "mmlu": "acc,none",
    "boolq": "acc,none",
    "lambada_openai": "acc,none",
    "gsm8k": "exact_match,strict-match",
    "triviaqa": "exact_match,remove_whitespace",
    "gpqa_main_zeroshot": "acc_norm,none",
    "gpqa_diamond_zeroshot": "acc_norm,none",
    "gpqa_main_cot_zeroshot": "exact_match,flexible-extract",
    "mmlu_pro": "exact_match,custom-extract",
}
MODEL_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine", "model_path")
# Path parts that name a checkpoint of a model rather than the model: step5000, ckpt-10000,
# global_step200, iter_0001000, final, latest.
_CHECKPOINT_PART = re.compile(
    r"(?i)^(?:(?:step|steps|ckpt|checkpoint|iter|iteration|global_step|epoch|ep|rev)[-_]?)?"
    r"\d+[km]?(?:[-_](?:hf|unsharded|sharded))?$"
    r"|^(?:(?:ckpt|checkpoint)[-_])?(?:final|latest|last|best)$|^(?:hf|unsharded|sharded)$"
)


def default_metric(task: str) -> str:
    """The metric a column shows when neither the layout nor the file names one; gpqa_*
    variants follow their YAMLs (cot and generative ones score `exact_match` per filter)."""
    if task in USUAL_METRICS:
        return USUAL_METRICS[task]
    if task.startswith("gpqa_"):
        generative = "cot" in task or "generative" in task
        return "exact_match,flexible-extract" if generative else "acc_norm,none"
    return "acc,none"


def model_family(checkpoint: str) -> str:
    """The model a checkpoint belongs to: its name with step and revision parts dropped, so
    `pretrained=/ckpt/run-a/step5000` and `.../step10000` are one model and another path is not."""
    pairs = dict(p.split("=", 1) for p in checkpoint.split(",") if "=" in p)
    name = next((pairs[k] for k in MODEL_KEYS if pairs.get(k)), checkpoint)
    parts = [p for p in re.split(r"[/\\=,]+", name.strip()) if p]
    kept = [p for p in parts if not _CHECKPOINT_PART.match(p)]
    return "/".join(kept).casefold()


def names_run(checkpoint: str, run_dir: Path) -> bool:
    """Whether a model argument points into this run (its folder name as a path part, or its
    path)."""
    parts = re.split(r"[/\\,=:\s]+", checkpoint)
    return run_dir.name in parts or str(run_dir.resolve()) in checkpoint


def split_models(
    results: list[Result], run_dir: Path
) -> tuple[list[Result], list[Unused], str | None]:
    """The run's own results, other models' results (with why), and why the run's model is
    ambiguous when several models are present and none names the run."""
    unnamed = [r for r in results if not r.checkpoint]
    families: dict[str, list[Result]] = {}
    for r in results:
        if r.checkpoint:
            families.setdefault(model_family(r.checkpoint), []).append(r)
    if len(families) <= 1:
        return results, [], None
    own = {f for f, rs in families.items() if any(names_run(r.checkpoint, run_dir) for r in rs)}
    if own:
        mine = unnamed + [r for f in own for r in families[f]]
        others = [
            Unused(r.source, r.task, f"another model ({r.checkpoint}); not run {run_dir.name}")
            for f, rs in families.items()
            if f not in own
            for r in rs
        ]
        return mine, others, None
    names = sorted({rs[0].checkpoint for rs in families.values()})
    why = f"ambiguous: {len(families)} models ({', '.join(names)}); none names run {run_dir.name}"
    others = [Unused(r.source, r.task, why) for rs in families.values() for r in rs]
    return unnamed, others, why


@dataclass(frozen=True)
class Want:
    """What a column asks for: the task, a metric (or the file's primary), kind, shots, limit."""

    task: str
    metric: str | None = None
    kind: str = "likelihood"
    shots: int | None = None
    limit: float | None = None


@dataclass(frozen=True)
class Choice:
    """The results that answer a column and the metric key read from them; or a mark
    (`ambiguous: ...`, `only 5-shot results ...`) or a file's error; and what was not used."""

    want: Want
    used: tuple[Result, ...] = ()
    key: str = ""
    values: tuple[float, ...] = ()
    stderr: float | None = None
    unused: tuple[Unused, ...] = ()
    error: str | None = None
    mark: str | None = None

    @property
    def newest(self) -> Result | None:
        return max(self.used, key=lambda r: r.when) if self.used else None


def shots_text(shots: int | None) -> str:
    return "unknown-shot" if shots is None else f"{shots}-shot"


def limit_text(limit: float | None) -> str:
    if limit is None:
        return "full"
    return f"limit {limit:.0%}" if limit < 1 else f"limit {int(limit)}"


def _matches(task: str, r: Result) -> bool:
    return task in r.names() or task.replace(":", "_") == r.task


def _drop(kept: list[Result], cands: Iterable[Result], reason: str) -> list[Unused]:
    return [Unused(r.source, r.task, reason) for r in cands if r not in kept]


def resolve(metric: str | None, r: Result) -> tuple[str | None, str | None]:
    """The `metric,filter` key of `r` a column reads, or (None, why not). No metric: the file's
    primary, else the usual one. A bare metric (or the usual one, where the file has no such
    filter) takes the task's own first filter, then `none`, then its only filter."""
    if metric is None and r.primary and r.primary in r.values:
        return r.primary, None
    wanted = metric or default_metric(r.task)
    if wanted in r.values:
        return wanted, None
    base, _, filt = wanted.partition(",")
    if metric is not None and filt:
        return None, no_metric(r, base)
    own = (r.primary or default_metric(r.task)).partition(",")[2]
    for key in (f"{base},{own}", f"{base},none"):
        if key in r.values:
            return key, None
    keys = sorted(k for k in r.values if k.partition(",")[0] == base)
    if len(keys) == 1:
        return keys[0], None
    if keys:
        filters = ", ".join(k.partition(",")[2] for k in keys)
        return None, f"ambiguous: {base} has filters {filters}; name one, e.g. {keys[0]}"
    return None, no_metric(r, base)


def no_metric(r: Result, base: str) -> str:
    """`no metric 'exact_match' (the file has em, qem for this task)`."""
    have = sorted({k.partition(",")[0] + _filter(k) for k in r.values})
    listed = ", ".join(have[:12]) + (f" +{len(have) - 12} more" if len(have) > 12 else "")
    has = f" (the file has {listed} for this task)" if have else " (the file has no metric for it)"
    return f"{r.source}: task {r.task!r}: no metric {base!r}{has}"


def _filter(key: str) -> str:
    """` (strict-match)` for a metric read through a filter, nothing for `none`."""
    filt = key.partition(",")[2]
    return f" ({filt})" if filt and filt != "none" else ""


def choose(want: Want, found: Found) -> Choice:
    """The results answering `want`: same task, the column's shots and limit (a full result
    before a limited one), one variant of the task, the newest checkpoint, and for a generative
    eval one file per seed (same seed: a re-run, the newest wins)."""
    cands = [r for r in found.results if _matches(want.task, r)]
    unused = [u for u in found.skipped if u.task and _matches(want.task, _stub(u))]
    if not cands:
        problem = found.errors.get(want.task) or found.errors.get("*")
        if problem is None and found.ambiguous and unused:
            return Choice(want, unused=tuple(unused), mark=found.ambiguous)
        return Choice(want, unused=tuple(unused), error=problem)
    newest_when = max(r.when for r in cands)
    if found.error_when.get(want.task, -math.inf) > newest_when:
        unused += _drop([], cands, "older than the newest file, which is broken for this task")
        return Choice(want, unused=tuple(unused), error=found.errors[want.task])

    if want.shots is not None:
        kept = [r for r in cands if r.shots == want.shots]
        unused += [
            Unused(r.source, r.task, f"{shots_text(r.shots)}; the column pins {want.shots}-shot")
            for r in cands
            if r not in kept
        ]
        if not kept:
            found_shots = sorted({shots_text(r.shots) for r in cands})
            mark = f"only {', '.join(found_shots)} results (the column pins {want.shots}-shot)"
            return Choice(want, unused=tuple(unused), mark=mark)
        cands = kept
    else:
        shots = sorted({r.shots for r in cands if r.shots is not None})
        if len(shots) > 1:
            listed = " and ".join(f"{s}-shot" for s in shots)
            why = f"ambiguous: {listed} results; pin shots in the layout"
            unused += _drop([], cands, why)
            return Choice(want, unused=tuple(unused), mark=why)

    if want.limit is None:
        full = [r for r in cands if r.limit is None]
        if full:
            unused += _drop(full, cands, "limited run; a full evaluation exists")
            cands = full
        else:
            most = max(r.limit or 0.0 for r in cands)
            kept = [r for r in cands if r.limit == most]
            unused += _drop(kept, cands, f"a larger limit ({limit_text(most)}) exists")
            cands = kept
    else:

        def fits(r: Result) -> bool:
            if r.limit is not None:
                return math.isclose(r.limit, want.limit or 0.0)
            return r.samples is not None and r.samples <= (want.limit or 0.0)

        kept = [r for r in cands if fits(r)]
        unused += [
            Unused(
                r.source, r.task, f"{limit_text(r.limit)}; the column pins {limit_text(want.limit)}"
            )
            for r in cands
            if r not in kept
        ]
        if not kept:
            listed = ", ".join(sorted({limit_text(r.limit) for r in cands}))
            mark = f"only {listed} results (the column pins {limit_text(want.limit)})"
            return Choice(want, unused=tuple(unused), mark=mark)
        cands = kept

    variants = sorted({r.variant or r.task for r in cands})
    if len(variants) > 1:
        why = f"ambiguous: {', '.join(variants)}; name one as the column's task"
        unused += _drop([], cands, why)
        return Choice(want, unused=tuple(unused), mark=why)

    newest = latest(cands, lambda r: r.checkpoint, lambda r: r.when)
    same = [r for r in cands if r.checkpoint == newest.checkpoint]
    newest = max(same, key=lambda r: r.when)
    unused += [
        Unused(r.source, r.task, f"older checkpoint ({r.checkpoint or 'unnamed'})")
        for r in cands
        if r not in same
    ]
    if want.kind == "generative":
        by_seed: dict[tuple, Result] = {}
        for r in sorted(same, key=lambda r: r.when):
            by_seed[r.seed] = r  # a file with the seed of an older one is a re-run: newest wins
        used = sorted(by_seed.values(), key=lambda r: r.when)
        unused += _drop(used, same, "same seed as a newer file: a re-run; the newest wins")
    else:
        used = [newest]
        unused += _drop(used, same, "a newer file of the same evaluation exists")

    key, why = resolve(want.metric, newest)
    if key is None:
        if why and why.startswith("ambiguous:"):
            return Choice(want, unused=tuple(unused), mark=why)
        return Choice(want, unused=tuple(unused), error=why)
    values: list[float] = []
    for r in used:
        if key not in r.values:
            base = key.partition(",")[0]
            return Choice(want, unused=tuple(unused), error=no_metric(r, base))
        value = r.values[key]
        values += list(value) if isinstance(value, tuple) else [value]
    return Choice(want, tuple(used), key, tuple(values), newest.stderrs.get(key), tuple(unused))


def _stub(u: Unused) -> Result:
    return Result(u.task, {}, {}, u.source)


def not_in_layout(found: Found, tasks: Sequence[str]) -> list[str]:
    """Tasks read from the run's files that no column asks for."""
    return sorted({r.task for r in found.results if not any(_matches(t, r) for t in tasks)})
