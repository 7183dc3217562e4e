"""Every geographic Danish postal code is placed (town, municipality, region, a point on land in
Denmark); P.O.-box, foreign and unknown codes are refused. Defect: 8210, 8220, 2100 and 5230
answered ``town: null`` (issue 14, item 9)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from core.places import (
    ATTRIBUTION,
    POSTAL_CODES_FILE,
    TOWNS,
    municipalities,
    place_for_postal_code,
    postal_places,
)

SHARED_GEO = Path(__file__).resolve().parents[2].parent / "shared" / "geo"
REGIONS = {
    "Region Hovedstaden",
    "Region Sjælland",
    "Region Syddanmark",
    "Region Midtjylland",
    "Region Nordjylland",
}


def _table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def test_every_geographic_code_resolves_with_a_town_and_a_point_in_denmark():
    rows = _table(POSTAL_CODES_FILE)
    assert len(rows) == len(postal_places()) == 1089
    centres = municipalities()
    assert len(centres) == 98
    for row in rows:
        place = place_for_postal_code(row["postal_code"])
        assert place is not None, row
        assert place.town == row["town"] and place.town.strip(), row
        assert place.exact
        assert place.region in REGIONS
        assert place.kommune == centres[place.kommune_code].name
        # Denmark's extent (Gedser to Skagen, Blåvandshuk to Christiansø) ...
        assert 54.55 <= place.lat <= 57.76 and 8.07 <= place.lon <= 15.2, row
        # ... and near its own municipality (Anholt lies 55 km from Norddjurs' centre).
        centre = centres[place.kommune_code]
        assert _km(place.lat, place.lon, centre.lat, centre.lon) < 60, row
    assert {p.kommune_code for p in postal_places().values()} == set(centres)


@pytest.mark.parametrize(
    ("code", "town", "kommune"),
    [
        ("8210", "Aarhus V", "Aarhus"),
        ("8220", "Brabrand", "Aarhus"),
        ("2100", "København Ø", "København"),
        ("5230", "Odense M", "Odense"),
        (" 8000 ", "Aarhus C", "Aarhus"),
    ],
)
def test_the_codes_that_had_no_town(code, town, kommune):
    place = place_for_postal_code(code)
    assert place is not None and (place.town, place.kommune) == (town, kommune)


@pytest.mark.parametrize(
    "code",
    [
        "8100",  # Aarhus C, P.O. boxes only
        "5100",  # Odense C, P.O. boxes only
        "0800",  # Høje Taastrup, company code
        "0000",
        "3900",  # Nuuk
        "9999",
        "820",
        "82000",
        "abcd",
        "",
    ],
)
def test_non_geographic_and_unknown_codes_are_not_placed(code):
    assert place_for_postal_code(code) is None


def test_the_demo_towns_are_in_the_table():
    for town in TOWNS:
        place = place_for_postal_code(town.postal_code)
        assert place is not None and (place.town, place.kommune, place.region) == (
            town.name,
            town.kommune,
            town.region,
        )


@pytest.mark.skipif(not SHARED_GEO.is_dir(), reason="shared/geo is not beside the repository")
def test_the_packaged_copy_is_the_shared_table():
    for name in ("dk_postal_codes.tsv", "dk_municipalities.tsv"):
        assert (POSTAL_CODES_FILE.parent / name).read_bytes() == (SHARED_GEO / name).read_bytes()
    readme = (POSTAL_CODES_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert " ".join(ATTRIBUTION.split()) in " ".join(readme.split())
