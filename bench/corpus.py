"""The dev corpus's families, shared by the benches: MANIFEST.csv's `family` column groups the
studies (`group`) that reran one recipe on the same data and network, so holding out a study
holds out its whole family."""

from __future__ import annotations

import csv
from pathlib import Path

from lcpipe.errors import LcpipeError


def read_manifest(dirs: list[Path]) -> dict[str, str]:
    """Study -> family, from each corpus folder's MANIFEST.csv (folders without one add nothing)."""
    family: dict[str, str] = {}
    for top in dirs:
        if not Path(top).is_dir():
            raise LcpipeError(f"{top}: no such folder; give a corpus folder (one folder per study, and a "
                              "MANIFEST.csv with group and family columns)")
        manifest = Path(top) / "MANIFEST.csv"
        if manifest.is_file():
            try:
                with manifest.open(newline="", encoding="utf-8-sig") as f:
                    family.update({row["group"]: row["family"] for row in csv.DictReader(f)
                                   if row.get("group") and row.get("family")})
            except (UnicodeDecodeError, csv.Error) as e:
                raise LcpipeError(f"{manifest}: not a UTF-8 CSV ({e.__class__.__name__}); save it as UTF-8 with "
                                  "group and family columns") from None
    return family


def families_of(dirs: list[Path], groups) -> dict[str, str]:
    """Study -> family for each of `groups`; a study no manifest names is its own family. Fewer than
    two families is an error: holding one out would leave no history to forecast it from."""
    family = read_manifest(dirs)
    families = {g: family.get(g, g) for g in groups}
    if len(set(families.values())) < 2:
        raise LcpipeError(f"leave-one-family-out needs at least two families of studies; "
                          f"{' '.join(map(str, dirs))} holds {len(set(families.values()))}")
    return families
