"""A Hugging Face `Trainer` callback that writes the run folder through `sheetsync.RunLog`.

    with sheetsync.RunLog("runs/prores-600m") as log:
        trainer = Trainer(..., callbacks=[SheetsyncCallback(log)])
        trainer.train()

The `with` block records `failed` or `killed` when training stops early (the Trainer calls no
callback then); the callback records the config, progress and the result.
"""

from __future__ import annotations

from typing import Any

from sheetsync.errors import ConfigError
from sheetsync.records.runlog import RunLog

try:
    from transformers import TrainerCallback
except ImportError:  # pragma: no cover - depends on the environment
    raise ConfigError(
        "sheetsync.hf needs the 'transformers' package: pip install transformers"
    ) from None


class SheetsyncCallback(TrainerCallback):
    """Config at the start, progress at each log, the final loss and FLOPs at the end."""

    def __init__(self, log: RunLog) -> None:
        self.log = log
        self.last_loss: float | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        config: dict[str, Any] = {"train": args.to_dict()}
        model_config = getattr(kwargs.get("model"), "config", None)
        if model_config is not None and hasattr(model_config, "to_dict"):
            config["model"] = model_config.to_dict()
        self.log.config(config, seed=args.seed)
        self.log.progress(step=state.global_step, steps_planned=state.max_steps or None)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        loss = None
        if logs and isinstance(logs.get("loss"), int | float):
            self.last_loss = loss = float(logs["loss"])
        tokens = state.num_input_tokens_seen or None
        self.log.progress(step=state.global_step, tokens=tokens, loss=loss)  # NaN: diverged

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        model = kwargs.get("model")
        params = model.num_parameters() if hasattr(model, "num_parameters") else None
        self.log.progress(step=state.global_step, tokens=state.num_input_tokens_seen or None)
        if self.last_loss is None:
            self.log.stop("failed")  # no loss was ever logged: there is no result to record
            return
        self.log.finish(
            final_loss=self.last_loss, params=params, flops=float(state.total_flos) or None
        )
