"""Danish vocabularies for the demo data: towns, names, industries, skills and schooling.

Towns are real, with approximate centre coordinates (WGS84) and a main postal code; companies
and people are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.places import TOWNS, Town  # noqa: F401  (re-exported for the generator)

FIRST_NAMES = [
    "Anne",
    "Mette",
    "Kirsten",
    "Hanne",
    "Anna",
    "Helle",
    "Maria",
    "Susanne",
    "Lene",
    "Marianne",
    "Camilla",
    "Lone",
    "Louise",
    "Charlotte",
    "Pia",
    "Tina",
    "Julie",
    "Emma",
    "Ida",
    "Sofie",
    "Freja",
    "Laura",
    "Caroline",
    "Mathilde",
    "Signe",
    "Nanna",
    "Maja",
    "Amalie",
    "Fatma",
    "Aisha",
    "Zainab",
    "Agnieszka",
    "Olena",
    "Peter",
    "Michael",
    "Lars",
    "Jens",
    "Thomas",
    "Henrik",
    "Søren",
    "Christian",
    "Martin",
    "Jan",
    "Morten",
    "Jesper",
    "Niels",
    "Anders",
    "Rasmus",
    "Mads",
    "Jonas",
    "Frederik",
    "Emil",
    "Oliver",
    "Lucas",
    "Mikkel",
    "Kasper",
    "Mathias",
    "Ali",
    "Mohammad",
    "Ahmed",
    "Omar",
    "Piotr",
    "Andrii",
    "Tobias",
    "Jakob",
    "Simon",
    "Nikolaj",
]

LAST_NAMES = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Mikkelsen",
    "Olesen",
    "Frederiksen",
    "Laursen",
    "Henriksen",
    "Lund",
    "Schmidt",
    "Eriksen",
    "Holm",
    "Kristiansen",
    "Clausen",
    "Simonsen",
    "Svendsen",
    "Andreasen",
    "Iversen",
    "Østergaard",
    "Jeppesen",
    "Vestergaard",
    "Nissen",
    "Kjær",
    "Dahl",
    "Bech",
    "Yilmaz",
    "Hussein",
    "Kowalski",
    "Nowak",
    "Ali",
    "Mahmoud",
]


@dataclass(frozen=True)
class Industry:
    name: str
    sub_major_groups: tuple[str, ...]  # ISCO 2-digit groups this industry hires from
    name_words: tuple[str, ...]  # words that go into company names


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "Transport og logistik",
        ("83", "93", "43", "96"),
        ("Logistik", "Fragt", "Transport", "Distribution", "Lager & Logistik", "Terminal"),
    ),
    Industry(
        "Bygge og anlæg",
        ("71", "72", "74", "93", "31"),
        ("Byg", "Entreprise", "Tømrer & Snedker", "Murer", "El-service", "Anlæg"),
    ),
    Industry(
        "Sundhed og omsorg",
        ("22", "32", "53"),
        ("Omsorg", "Plejecenter", "Sundhedshus", "Klinik", "Hjemmepleje"),
    ),
    Industry(
        "Detailhandel",
        ("52", "43", "14", "33"),
        ("Handel", "Købmand", "Butik", "Supermarked", "Isenkram"),
    ),
    Industry(
        "Hotel og restauration",
        ("51", "94", "14", "52"),
        ("Hotel", "Kro", "Restaurant", "Café", "Catering"),
    ),
    Industry(
        "IT og telekommunikation",
        ("25", "35", "24", "12"),
        ("Data", "IT", "Software", "Digital", "Net"),
    ),
    Industry(
        "Industri og produktion",
        ("72", "81", "82", "31", "73", "75"),
        ("Industri", "Maskinfabrik", "Produktion", "Plast", "Metal", "Emballage"),
    ),
    Industry(
        "Rengøring og ejendomsservice",
        ("91", "51", "96"),
        ("Rengøring", "Ejendomsservice", "Facility", "Vinduespolering"),
    ),
    Industry(
        "Undervisning og pædagogik",
        ("23", "53", "34"),
        ("Skole", "Børnehus", "Efterskole", "Sprogcenter"),
    ),
    Industry(
        "Kontor og administration",
        ("41", "42", "33", "24", "26"),
        ("Revision", "Administration", "Rådgivning", "Kontorservice"),
    ),
    Industry(
        "Landbrug og fødevarer",
        ("61", "92", "75", "81"),
        ("Gård", "Mejeri", "Slagteri", "Gartneri", "Fødevarer"),
    ),
    Industry(
        "Finans og forsikring",
        ("24", "33", "41", "42"),
        ("Finans", "Forsikring", "Pension", "Sparekasse"),
    ),
    Industry(
        "Energi og forsyning", ("21", "31", "74", "81"), ("Energi", "Forsyning", "Vind", "Varme")
    ),
)

COMPANY_PREFIXES = (
    "Nordjysk",
    "Sydjysk",
    "Østjysk",
    "Vestjysk",
    "Midtjysk",
    "Fynsk",
    "Sjællandsk",
    "Dansk",
    "Kyst",
    "Fjord",
    "Havne",
    "Ny",
    "Bakke",
    "Skov",
    "Engholm",
    "Lindholm",
    "Brødrene",
    "Hedegaard",
    "Søndergaard",
    "Nørgaard",
    "Vesterby",
    "Strand",
    "Egholm",
    "Kronborg",
)
COMPANY_SUFFIXES = ("A/S", "ApS", "ApS", "ApS", "I/S", "A/S")
COMPANY_SIZES = ("1-9", "10-49", "50-99", "100-249", "250+")


@dataclass(frozen=True)
class Field:
    """What people in one ISCO sub-major group know, learn and do."""

    skills: tuple[str, ...]
    education: str
    courses: tuple[str, ...]
    tasks: tuple[str, ...]


_GENERIC_COURSES = ("Førstehjælp", "Arbejdsmiljø for nyansatte", "Digitale værktøjer på jobbet")

FIELDS: dict[str, Field] = {
    "01": Field(
        ("ledelse", "planlægning", "sikkerhed"),
        "Officersuddannelse",
        ("Lederuddannelse",),
        ("lede enheder", "planlægge operationer"),
    ),
    "02": Field(
        ("ledelse af hold", "sikkerhed", "logistik"),
        "Sergentuddannelse",
        ("Førerkursus",),
        ("lede hold", "uddanne soldater"),
    ),
    "03": Field(
        ("disciplin", "sikkerhed", "teamwork"),
        "Værnepligt",
        ("Førstehjælp",),
        ("deltage i øvelser", "vedligeholde materiel"),
    ),
    "11": Field(
        ("strategisk ledelse", "økonomistyring", "forhandling", "forandringsledelse"),
        "Cand.merc.",
        ("Bestyrelseskursus", "Diplom i ledelse"),
        ("fastlægge strategi", "lede direktionen"),
    ),
    "12": Field(
        ("personaleledelse", "budgetansvar", "HR", "rekruttering", "projektledelse"),
        "Cand.merc.",
        ("Diplom i ledelse", "Projektledelse"),
        ("lede afdelingen", "følge op på budgetter"),
    ),
    "13": Field(
        ("driftsledelse", "produktionsplanlægning", "LEAN", "kvalitetsstyring"),
        "Produktionsteknolog",
        ("LEAN-uddannelse", "Diplom i ledelse"),
        ("lede produktionen", "planlægge bemanding"),
    ),
    "14": Field(
        ("butiksledelse", "vagtplanlægning", "kundeservice", "varebestilling"),
        "Detailhandelsuddannelse",
        ("Lederkursus i detail", "Hygiejnekursus"),
        ("lede butikken", "lægge vagtplaner"),
    ),
    "21": Field(
        ("CAD", "projektering", "beregning", "dokumentation", "matematik"),
        "Civilingeniør",
        ("AutoCAD", "Projektledelse"),
        ("udarbejde beregninger", "projektere anlæg"),
    ),
    "22": Field(
        ("patientpleje", "medicinhåndtering", "dokumentation i EPJ", "tværfagligt samarbejde"),
        "Professionsbachelor i sygepleje",
        ("Hjerte-lunge-redning", "Medicinhåndtering"),
        ("pleje patienter", "dokumentere behandling"),
    ),
    "23": Field(
        ("undervisning", "klasseledelse", "forældresamarbejde", "inklusion", "didaktik"),
        "Professionsbachelor som lærer",
        ("Læsevejleder", "Inklusion i praksis"),
        ("undervise elever", "planlægge forløb"),
    ),
    "24": Field(
        ("regnskab", "Excel", "analyse", "rådgivning", "salg"),
        "Cand.oecon.",
        ("Excel for øvede", "Salgstræning"),
        ("udarbejde analyser", "rådgive kunder"),
    ),
    "25": Field(
        ("Python", "SQL", "Java", "cloud", "test", "systemudvikling"),
        "Datamatiker",
        ("Scrum Master", "Azure Fundamentals"),
        ("udvikle software", "vedligeholde systemer"),
    ),
    "26": Field(
        ("jura", "sagsbehandling", "formidling", "skriftlig fremstilling"),
        "Cand.jur.",
        ("Forvaltningsret", "Klarsprog"),
        ("behandle sager", "skrive notater"),
    ),
    "31": Field(
        ("teknisk tegning", "måling og kontrol", "fejlfinding", "vedligehold"),
        "Maskinmester",
        ("PLC-programmering", "Elsikkerhed"),
        ("overvåge anlæg", "foretage målinger"),
    ),
    "32": Field(
        ("patientkontakt", "prøvetagning", "hygiejne", "journalføring"),
        "Social- og sundhedsassistent",
        ("Hygiejne og smitteforebyggelse", "Forflytning"),
        ("assistere ved behandlinger", "tage prøver"),
    ),
    "33": Field(
        ("bogføring", "fakturering", "kundekontakt", "indkøb", "Excel"),
        "Kontoruddannelse",
        ("e-conomic", "Indkøb og logistik"),
        ("bogføre bilag", "håndtere ordrer"),
    ),
    "34": Field(
        ("sagsbehandling", "formidling", "socialt arbejde", "aktivitetsplanlægning"),
        "Pædagogisk assistent",
        ("Konflikthåndtering",),
        ("planlægge aktiviteter", "støtte borgere"),
    ),
    "35": Field(
        ("netværk", "support", "Windows", "hardware", "fejlfinding"),
        "IT-supporter",
        ("ITIL Foundation", "CCNA"),
        ("yde brugersupport", "installere udstyr"),
    ),
    "41": Field(
        ("Office-pakken", "journalisering", "telefonpasning", "kalenderstyring"),
        "Kontoruddannelse",
        ("Word og Outlook", "Kundeservice"),
        ("passe telefonen", "håndtere post"),
    ),
    "42": Field(
        ("kundeservice", "telefonbetjening", "reklamationer", "CRM-systemer"),
        "Kontoruddannelse",
        ("Kommunikation med kunder", "Konflikthåndtering"),
        ("besvare henvendelser", "løse kundesager"),
    ),
    "43": Field(
        ("lagerstyring", "varemodtagelse", "ERP-systemer", "optælling", "registrering"),
        "Lager- og logistikuddannelsen",
        ("Truckcertifikat B", "Lagerstyring i ERP"),
        ("registrere varer", "styre lagerbeholdning"),
    ),
    "44": Field(
        ("arkivering", "dataregistrering", "postomdeling", "kundebetjening"),
        "HF",
        ("Word og Excel",),
        ("registrere data", "sortere post"),
    ),
    "51": Field(
        ("kundebetjening", "hygiejne", "servering", "service"),
        "Tjeneruddannelse",
        ("Hygiejnebevis", "Vinkursus"),
        ("betjene gæster", "holde orden"),
    ),
    "52": Field(
        ("salg", "kundebetjening", "kasseekspedition", "vareopfyldning", "merchandising"),
        "Detailhandelsuddannelse",
        ("Salgstræning", "Kasseekspedition"),
        ("betjene kunder", "fylde varer op"),
    ),
    "53": Field(
        ("personlig pleje", "omsorg", "dokumentation", "forflytning", "pædagogik"),
        "Social- og sundhedshjælper",
        ("Forflytning", "Demens"),
        ("hjælpe borgere", "dokumentere pleje"),
    ),
    "54": Field(
        ("vagttjeneste", "overvågning", "brandslukning", "førstehjælp"),
        "Vagtuddannelse",
        ("Vagtkort", "Brandbekæmpelse"),
        ("patruljere", "overvåge kameraer"),
    ),
    "61": Field(
        ("dyrehold", "markarbejde", "maskinkørsel", "planteavl"),
        "Landbrugsuddannelsen",
        ("Traktorkørsel", "Sprøjtecertifikat"),
        ("passe dyr", "køre maskiner"),
    ),
    "62": Field(
        ("skovdrift", "motorsav", "fiskeri", "naturpleje"),
        "Skov- og landskabsuddannelsen",
        ("Motorsavskursus",),
        ("fælde træer", "pleje arealer"),
    ),
    "63": Field(
        ("dyrehold", "planteavl", "selvforsyning"),
        "Landbrugsuddannelsen",
        ("Traktorkørsel",),
        ("passe dyr", "dyrke afgrøder"),
    ),
    "71": Field(
        ("tømrerarbejde", "murerarbejde", "tegningslæsning", "stilladsarbejde", "VVS"),
        "Tømreruddannelsen",
        ("Stilladskursus", "Asbestkursus"),
        ("opføre byggeri", "renovere bygninger"),
    ),
    "72": Field(
        ("svejsning", "CNC", "maskinbearbejdning", "montage", "tegningslæsning"),
        "Industritekniker",
        ("Svejsecertifikat", "CNC-programmering"),
        ("bearbejde emner", "svejse konstruktioner"),
    ),
    "73": Field(
        ("finmekanik", "grafisk produktion", "kvalitetskontrol"),
        "Mediegrafiker",
        ("InDesign",),
        ("fremstille tryksager", "kontrollere kvalitet"),
    ),
    "74": Field(
        ("el-installation", "fejlfinding", "PLC", "elsikkerhed", "automation"),
        "Elektrikeruddannelsen",
        ("Elsikkerhed", "PLC-programmering"),
        ("installere anlæg", "finde fejl"),
    ),
    "75": Field(
        ("fødevarehygiejne", "slagtning", "bagning", "træbearbejdning", "syning"),
        "Fødevareuddannelse",
        ("Hygiejnebevis", "HACCP"),
        ("tilberede råvarer", "pakke produkter"),
    ),
    "81": Field(
        ("maskinbetjening", "produktionslinje", "kvalitetskontrol", "omstilling", "5S"),
        "Procesoperatør",
        ("Maskinsikkerhed", "LEAN"),
        ("betjene maskiner", "overvåge produktion"),
    ),
    "82": Field(
        ("montage", "håndværktøj", "kvalitetskontrol", "tegningslæsning"),
        "Industrioperatør",
        ("Montagekursus",),
        ("samle produkter", "teste emner"),
    ),
    "83": Field(
        ("kørekort C", "kørekort CE", "ADR", "kundekontakt", "ruteplanlægning", "truckkørsel"),
        "Chaufføruddannelsen",
        ("Efteruddannelse for chauffører (EU-efteruddannelse)", "ADR-bevis", "Truckcertifikat B"),
        ("køre ruter", "læsse og losse gods"),
    ),
    "91": Field(
        ("rengøring", "hygiejne", "rengøringsmidler", "maskinrengøring"),
        "Erhvervsrengøring (AMU)",
        ("Erhvervsrengøring", "Rengøringsmaskiner"),
        ("gøre rent", "vedligeholde gulve"),
    ),
    "92": Field(
        ("markarbejde", "dyrepasning", "plukning", "fysisk arbejde"),
        "Folkeskolens afgangseksamen",
        ("Traktorkørsel",),
        ("hjælpe i marken", "fodre dyr"),
    ),
    "93": Field(
        (
            "plukning med scanner",
            "pakning",
            "truckkørsel",
            "læsning og losning",
            "vareflow",
            "fysisk arbejde",
        ),
        "Folkeskolens afgangseksamen",
        ("Truckcertifikat B", "Lagerlogistik (AMU)", "Løfteteknik"),
        ("plukke ordrer", "pakke varer", "læsse lastbiler"),
    ),
    "94": Field(
        ("madlavning", "opvask", "hygiejne", "anretning"),
        "Ernæringsassistent",
        ("Hygiejnebevis",),
        ("forberede mad", "holde køkkenet rent"),
    ),
    "95": Field(
        ("salg", "kundebetjening", "kontanthåndtering"),
        "Folkeskolens afgangseksamen",
        ("Kasseekspedition",),
        ("sælge varer", "betjene kunder"),
    ),
    "96": Field(
        ("affaldssortering", "renovation", "kørsel", "fysisk arbejde"),
        "Folkeskolens afgangseksamen",
        ("Affaldshåndtering (AMU)", "Kørekort C"),
        ("tømme containere", "sortere affald"),
    ),
}

GENERIC_COURSES = _GENERIC_COURSES

LANGUAGES = ("engelsk", "tysk", "svensk", "polsk", "arabisk", "ukrainsk", "tyrkisk", "spansk")
LANGUAGE_LEVELS = ("grundlæggende", "godt", "flydende", "modersmål")

OFFER_PITCHES = (
    "Kom forbi til en uformel kop kaffe og hør, hvordan en dag hos {company} ser ud. "
    "Vi søger {role} og vil gerne møde dig, før du søger.",
    "Hos {company} mangler vi flere hænder som {role}. Tag en snak med os over en kop kaffe "
    "– ingen ansøgning, ingen CV-krav.",
    "Er du nysgerrig på job som {role}? Mød en af vores medarbejdere i {town} til 20 minutters "
    "kaffe og spørg løs.",
    "Vi har travlt og gode kolleger. Mød {company} til en kaffe og se, om {role} er noget for dig.",
)

OFFER_BENEFITS = (
    "en god og uformel omgangstone",
    "faste arbejdstider og overenskomst",
    "grundig oplæring og en fast kontaktperson",
    "mulighed for efteruddannelse",
    "frokostordning og firmabetalt kaffe",
    "pension og sundhedsforsikring",
    "fleksible vagter",
    "gode muligheder for fastansættelse",
)
