"""Where a table generator may write, checked before any training: one rule for bench/hpo_table, bench/boost_table
and bench/lm_table. A red team ran the docstring's slice example without `--out`: it rewrote the committed table
with 2 configs (hpo_table: `bench/hpo.py` then failed with a KeyError; boost_table: 38 old runs and 2 new of another
length, which `bench/pruners.py` replayed as one study without a word)."""

from __future__ import annotations

from pathlib import Path


def out_refusal(out: Path, committed: Path, whole: bool, script: str, mark: str = "provenance.json") -> str | None:
    """Why `out` may not take this run's table, or None where it may:
    - a path that is no folder: never;
    - a new or empty folder: always;
    - the committed table's folder, or a folder holding a table `script` wrote (its file `mark` names the script, or,
      where `mark` is a manifest naming no script, is there): only a whole table (every task and config, of any
      length), which rewrites each file of the one there; a slice or a subset would mix with it;
    - any other folder with files in it: never (this writes a table's files into it)."""
    if out.exists() and not out.is_dir():
        return f"--out {out}: exists and is not a folder"
    if not out.exists() or not any(not p.name.startswith(".") for p in out.iterdir()):  # a .gitkeep is no table
        return None
    marked = (out / mark).is_file() and (mark == "MANIFEST.csv" or script in (out / mark).read_text(errors="replace"))
    ours = out.resolve() == committed.resolve() or marked
    if not ours:
        return f"--out {out}: holds other files, not a table {script} wrote; give a new or empty folder"
    if not whole:
        what = "the committed table" if out.resolve() == committed.resolve() else "the table there"
        return (f"--out {out}: a part of a table (fewer tasks or configs than the whole) would mix with {what}; give a "
                "new or empty folder for it")
    return None
