"""Reading the ESCO taxonomy files (Danish labels, ISCO-08 groups) into documents."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LABELS_FILE = "esco_labels_da.tsv"
OCCUPATIONS_FILE = "esco_occupations_en.tsv"


@dataclass
class Taxonomy:
    occupations: list[dict] = field(default_factory=list)  # sorted by _id
    isco_groups: list[dict] = field(default_factory=list)  # sorted by code

    def by_sub_major(self) -> dict[str, list[dict]]:
        groups: dict[str, list[dict]] = defaultdict(list)
        for occ in self.occupations:
            groups[occ["iscoCode"][:2]].append(occ)
        return groups

    def by_id(self) -> dict[str, dict]:
        return {o["_id"]: o for o in self.occupations}


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def occupation_id(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def load_taxonomy(directory: Path) -> Taxonomy:
    if not (directory / LABELS_FILE).exists():
        raise FileNotFoundError(
            f"taxonomy not found in {directory}; set JOBUNIVERS_TAXONOMY_DIR to the folder "
            f"holding {LABELS_FILE} and {OCCUPATIONS_FILE}"
        )
    preferred: dict[str, str] = {}
    alternatives: dict[str, list[str]] = defaultdict(list)
    group_labels: dict[str, str] = {}
    for row in _read_tsv(directory / LABELS_FILE):
        uri, label = row["concept_uri"], row["label_da"].strip()
        if row["kind"] == "isco_group":
            group_labels[uri.rsplit("/C", 1)[-1]] = label
        elif row["label_type"] == "preferred":
            preferred[uri] = label
        else:
            alternatives[uri].append(label)

    occupations = []
    for row in _read_tsv(directory / OCCUPATIONS_FILE):
        uri, code = row["concept_uri"], row["isco_code"].strip()
        label_da = preferred.get(uri)
        if not label_da:
            continue  # an occupation without a Danish label cannot be shown to the user
        alt = sorted({a for a in alternatives.get(uri, []) if a != label_da})
        occupations.append(
            {
                "_id": occupation_id(uri),
                "uri": uri,
                "iscoCode": code,
                "iscoPath": [code[:n] for n in range(1, len(code) + 1)],
                "labelDa": label_da,
                "altLabelsDa": alt,
                "labelEn": row["label_en"].strip(),
                "descriptionEn": row["description_en"].strip(),
            }
        )
    occupations.sort(key=lambda o: o["_id"])
    groups = [
        {
            "_id": code,
            "level": len(code),
            "labelDa": label,
            "parent": code[:-1] if len(code) > 1 else None,
        }
        for code, label in sorted(group_labels.items())
    ]
    return Taxonomy(occupations=occupations, isco_groups=groups)


def write_taxonomy_slice(source: Path, target: Path, groups: tuple[str, ...]) -> Path:
    """The taxonomy files in ``source`` cut down to the occupations whose ISCO code starts with
    one of ``groups`` (every ISCO group label kept), written to ``target``: a scratch stack or a
    test starts in seconds instead of embedding all 13,000 labels."""
    target.mkdir(parents=True, exist_ok=True)
    with (source / "esco_occupations_en.tsv").open(encoding="utf-8") as f:
        rows = f.readlines()
    kept = [rows[0]] + [r for r in rows[1:] if r.split("\t")[1].startswith(groups)]
    (target / "esco_occupations_en.tsv").write_text("".join(kept), encoding="utf-8")
    uris = {r.split("\t")[0] for r in kept[1:]}
    with (source / "esco_labels_da.tsv").open(encoding="utf-8") as f:
        labels = f.readlines()
    kept_labels = [labels[0]] + [
        r for r in labels[1:] if r.split("\t")[0] in uris or r.split("\t")[1] == "isco_group"
    ]
    (target / "esco_labels_da.tsv").write_text("".join(kept_labels), encoding="utf-8")
    readme = source / "README.md"
    if readme.exists():
        (target / "README.md").write_text(readme.read_text(encoding="utf-8"), encoding="utf-8")
    return target
