"""Eval result files as harnesses write them: one reader per format, found by content.

`detect.scan(run_dir)` reads every eval file of a run into `Result` records (`result.py`);
`identity.choose(want, found)` picks the results that answer one column and says why the
others do not. Nothing here imports the rest of sheetsync except `sheetsync.errors`.
"""
