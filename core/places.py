"""Places: every Danish postal code with its town, municipality, region and a point on land
(WGS84), so a citizen, company, posting or offer is placed by postal code alone (no street
address is kept) and distances are computed in kilometres. The table is ``core/data/`` (a copy
of ``shared/geo/``, see its README; attribution in ``ATTRIBUTION``). ``TOWNS`` is the smaller
list of towns the demo data places people and companies in, with rough population weights."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
POSTAL_CODES_FILE = DATA_DIR / "dk_postal_codes.tsv"
MUNICIPALITIES_FILE = DATA_DIR / "dk_municipalities.tsv"
# CC BY 4.0 asks for this wherever the data is shown (README, app "about" screens).
ATTRIBUTION = (
    "Contains data from Klimadatastyrelsen/SDFI (DAWA postnumre, DAGI postnummer- and "
    "kommuneinddeling), CC BY 4.0, and town names from PostNord's postal-code file."
)


@dataclass(frozen=True)
class Town:
    name: str
    postal_code: str
    kommune: str
    region: str
    lat: float
    lon: float
    weight: int  # rough population weight, for where people live and companies sit


H, S, SD, MJ, NJ = (
    "Region Hovedstaden",
    "Region Sjælland",
    "Region Syddanmark",
    "Region Midtjylland",
    "Region Nordjylland",
)

TOWNS: tuple[Town, ...] = (
    Town("København K", "1050", "København", H, 55.6806, 12.5850, 60),
    Town("København N", "2200", "København", H, 55.6970, 12.5480, 40),
    Town("København S", "2300", "København", H, 55.6520, 12.5990, 35),
    Town("Valby", "2500", "København", H, 55.6620, 12.5160, 25),
    Town("Frederiksberg", "2000", "Frederiksberg", H, 55.6790, 12.5340, 30),
    Town("Hvidovre", "2650", "Hvidovre", H, 55.6570, 12.4740, 15),
    Town("Glostrup", "2600", "Glostrup", H, 55.6660, 12.4040, 8),
    Town("Taastrup", "2630", "Høje-Taastrup", H, 55.6520, 12.3000, 12),
    Town("Ballerup", "2750", "Ballerup", H, 55.7310, 12.3630, 12),
    Town("Kongens Lyngby", "2800", "Lyngby-Taarbæk", H, 55.7710, 12.5040, 12),
    Town("Kastrup", "2770", "Tårnby", H, 55.6360, 12.6470, 10),
    Town("Hillerød", "3400", "Hillerød", H, 55.9270, 12.3000, 12),
    Town("Helsingør", "3000", "Helsingør", H, 56.0360, 12.6140, 12),
    Town("Frederikssund", "3600", "Frederikssund", H, 55.8400, 12.0690, 7),
    Town("Rønne", "3700", "Bornholm", H, 55.1000, 14.7060, 6),
    Town("Roskilde", "4000", "Roskilde", S, 55.6420, 12.0800, 18),
    Town("Køge", "4600", "Køge", S, 55.4580, 12.1820, 12),
    Town("Greve", "2670", "Greve", S, 55.5830, 12.3000, 10),
    Town("Ringsted", "4100", "Ringsted", S, 55.4430, 11.7900, 8),
    Town("Holbæk", "4300", "Holbæk", S, 55.7170, 11.7130, 10),
    Town("Kalundborg", "4400", "Kalundborg", S, 55.6810, 11.0890, 7),
    Town("Slagelse", "4200", "Slagelse", S, 55.4030, 11.3540, 11),
    Town("Næstved", "4700", "Næstved", S, 55.2300, 11.7600, 12),
    Town("Vordingborg", "4760", "Vordingborg", S, 55.0080, 11.9110, 5),
    Town("Nykøbing F", "4800", "Guldborgsund", S, 54.7690, 11.8740, 7),
    Town("Odense C", "5000", "Odense", SD, 55.3960, 10.3880, 40),
    Town("Middelfart", "5500", "Middelfart", SD, 55.5060, 9.7300, 6),
    Town("Nyborg", "5800", "Nyborg", SD, 55.3120, 10.7900, 6),
    Town("Svendborg", "5700", "Svendborg", SD, 55.0600, 10.6070, 9),
    Town("Faaborg", "5600", "Faaborg-Midtfyn", SD, 55.0950, 10.2420, 4),
    Town("Kolding", "6000", "Kolding", SD, 55.4900, 9.4720, 18),
    Town("Fredericia", "7000", "Fredericia", SD, 55.5650, 9.7520, 11),
    Town("Vejle", "7100", "Vejle", SD, 55.7090, 9.5360, 16),
    Town("Billund", "7190", "Billund", SD, 55.7310, 9.1130, 4),
    Town("Esbjerg", "6700", "Esbjerg", SD, 55.4760, 8.4590, 20),
    Town("Varde", "6800", "Varde", SD, 55.6210, 8.4810, 6),
    Town("Ribe", "6760", "Esbjerg", SD, 55.3280, 8.7600, 4),
    Town("Haderslev", "6100", "Haderslev", SD, 55.2490, 9.4880, 8),
    Town("Aabenraa", "6200", "Aabenraa", SD, 55.0440, 9.4180, 7),
    Town("Sønderborg", "6400", "Sønderborg", SD, 54.9090, 9.7920, 10),
    Town("Tønder", "6270", "Tønder", SD, 54.9330, 8.8670, 4),
    Town("Aarhus C", "8000", "Aarhus", MJ, 56.1570, 10.2110, 45),
    Town("Aarhus N", "8200", "Aarhus", MJ, 56.1860, 10.1900, 25),
    Town("Viby J", "8260", "Aarhus", MJ, 56.1290, 10.1640, 15),
    Town("Odder", "8300", "Odder", MJ, 55.9730, 10.1530, 5),
    Town("Skanderborg", "8660", "Skanderborg", MJ, 56.0340, 9.9280, 8),
    Town("Horsens", "8700", "Horsens", MJ, 55.8610, 9.8500, 15),
    Town("Hedensted", "8722", "Hedensted", MJ, 55.7700, 9.7010, 5),
    Town("Silkeborg", "8600", "Silkeborg", MJ, 56.1700, 9.5450, 14),
    Town("Randers C", "8900", "Randers", MJ, 56.4600, 10.0360, 16),
    Town("Grenaa", "8500", "Norddjurs", MJ, 56.4150, 10.8780, 5),
    Town("Ebeltoft", "8400", "Syddjurs", MJ, 56.1940, 10.6820, 4),
    Town("Viborg", "8800", "Viborg", MJ, 56.4510, 9.4020, 12),
    Town("Skive", "7800", "Skive", MJ, 56.5660, 9.0280, 7),
    Town("Herning", "7400", "Herning", MJ, 56.1390, 8.9730, 13),
    Town("Ikast", "7430", "Ikast-Brande", MJ, 56.1390, 9.1580, 6),
    Town("Holstebro", "7500", "Holstebro", MJ, 56.3600, 8.6160, 10),
    Town("Struer", "7600", "Struer", MJ, 56.4920, 8.5940, 4),
    Town("Lemvig", "7620", "Lemvig", MJ, 56.5490, 8.3100, 3),
    Town("Ringkøbing", "6950", "Ringkøbing-Skjern", MJ, 56.0900, 8.2440, 5),
    Town("Aalborg", "9000", "Aalborg", NJ, 57.0480, 9.9190, 35),
    Town("Nørresundby", "9400", "Aalborg", NJ, 57.0590, 9.9230, 8),
    Town("Hobro", "9500", "Mariagerfjord", NJ, 56.6390, 9.7910, 5),
    Town("Brønderslev", "9700", "Brønderslev", NJ, 57.2700, 9.9450, 5),
    Town("Hjørring", "9800", "Hjørring", NJ, 57.4640, 9.9820, 8),
    Town("Frederikshavn", "9900", "Frederikshavn", NJ, 57.4410, 10.5370, 8),
    Town("Thisted", "7700", "Thisted", NJ, 56.9550, 8.6940, 6),
)


@dataclass(frozen=True)
class Place:
    postal_code: str
    town: str
    kommune: str
    region: str
    lat: float
    lon: float
    exact: bool = True  # every code in the table is placed at its own point
    kommune_code: str = ""


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    region: str
    lat: float
    lon: float


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@cache
def postal_places() -> dict[str, Place]:
    """Every geographic postal code (1,089), read once."""
    return {
        r["postal_code"]: Place(
            postal_code=r["postal_code"],
            town=r["town"],
            kommune=r["kommune_name"],
            region=r["region_name"],
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            kommune_code=r["kommune_code"],
        )
        for r in _rows(POSTAL_CODES_FILE)
    }


@cache
def municipalities() -> dict[str, Municipality]:
    """The 98 municipalities by their 3-digit code (each has one job centre)."""
    return {
        r["kommune_code"]: Municipality(
            r["kommune_code"], r["kommune_name"], r["region_name"], float(r["lat"]), float(r["lon"])
        )
        for r in _rows(MUNICIPALITIES_FILE)
    }


def place_for_postal_code(postal_code: str) -> Place | None:
    """Where a postal code lies: its town, municipality, region and point. ``None`` for a code
    that is not a geographic Danish code: P.O.-box and company codes (they have no area, so no
    distance can be computed from them), Greenland and the Faroe Islands, and unknown codes."""
    return postal_places().get(postal_code.strip())
