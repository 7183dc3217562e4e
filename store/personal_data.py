"""The register of where a citizen's personal data lives, and what erasure does to it.

Every collection the app declares (``store.collections``) is either listed in ``HOLDINGS``
(it holds data about a citizen, found by an owner field) or in ``NOT_CITIZEN_DATA`` with the
reason why not. "Mine data", the export and account erasure are all driven by this register, so
a collection added later shows up in all three once it is registered, and a test fails until it
is. Erasure deletes the citizen's documents, or, where the other party keeps a legitimate
record (a meeting request to an employer's offer), keeps only whitelisted non-personal fields
and replaces the owner with a random token that links to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import collections as c


class Erasure(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


@dataclass(frozen=True)
class Purpose:
    key: str
    title_da: str
    title_en: str
    why_da: str
    why_en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_da

    def why(self, locale: str) -> str:
        return self.why_en if locale == "en" else self.why_da


PROFILE = Purpose(
    "profile",
    "Profil og kontaktoplysninger",
    "Profile and contact details",
    "Navn, kontakt, postnummer og jobønsker, så vi kan finde job i nærheden, som du ønsker.",
    "Name, contact, postal code and job wishes, so we can find jobs near you that you want.",
)
CVS = Purpose(
    "cvs",
    "CV'er",
    "CVs",
    "Dine CV-versioner. Det primære CV bruges til jobforslag og vises til virksomheder, du "
    "beder om et kaffemøde.",
    "Your CV versions. The primary CV is used for job suggestions and shown to companies you "
    "ask for a coffee meeting.",
)
PROFILING = Purpose(
    "profiling",
    "Profilering",
    "Profiling",
    "En talvektor beregnet ud fra dit primære CV, som bruges til at rangere jobforslag. Den "
    "gemmes kun, når profilering er slået til.",
    "A vector of numbers computed from your primary CV, used to rank job suggestions. It is "
    "only kept while profiling is on.",
)
CONSENTS = Purpose(
    "consents",
    "Samtykker og indstillinger",
    "Consents and settings",
    "Hver ændring af dine valg om profilering, synlighed og notifikationer, med tidspunkt.",
    "Every change to your choices on profiling, visibility and notifications, with the time.",
)
JOB_ANSWERS = Purpose(
    "jobAnswers",
    "Dine svar på jobforslag",
    "Your answers to job suggestions",
    "Job du har sagt 'ikke interesseret' til og hvorfor. Bruges kun til at gøre dine egne "
    "forslag bedre.",
    "Jobs you marked 'not interested' and why. Used only to improve your own suggestions.",
)
JOBLOG = Purpose(
    "joblog",
    "Dine søgte job",
    "Jobs you applied for",
    "Din log over ansøgninger, som du selv fører eller som appen tilføjer.",
    "Your log of applications, kept by you or added by the app.",
)
SAVED_JOBS = Purpose(
    "savedJobs",
    "Gemte job",
    "Saved jobs",
    "Jobopslag du har gemt til senere.",
    "Job postings you saved for later.",
)
CV_VIEWS = Purpose(
    "cvViews",
    "Hvem har set mit CV",
    "Who viewed my CV",
    "Hver gang en virksomhed har åbnet din profil: hvilken virksomhed, hvornår og hvorfor.",
    "Each time a company opened your profile: which company, when and why.",
)
MEETINGS = Purpose(
    "meetingRequests",
    "Mødeanmodninger og møder",
    "Meeting requests and meetings",
    "Dine anmodninger om kaffemøder og deres status.",
    "Your coffee-meeting requests and their status.",
)
SWIPES = Purpose(
    "swipes",
    "Dine swipes på kaffemøder",
    "Your coffee-meeting swipes",
    "Ja og nej til kaffemøder, begrundelser og dagens antal ja. Bruges til at vise dig de "
    "rigtige kort og til at sende dine anmodninger.",
    "Yes and no to coffee meetings, reasons and today's number of yes. Used to show you the "
    "right cards and to send your requests.",
)
NOTIFICATIONS = Purpose(
    "notifications",
    "Notifikationer",
    "Notifications",
    "Beskeder i din postkasse og beskeder, der venter på at blive sendt til din telefon.",
    "Messages in your inbox and messages waiting to be sent to your phone.",
)

DEVICES = Purpose(
    "devices",
    "Enheder og notifikationsvalg",
    "Devices and notification settings",
    "Telefoner, der modtager dine beskeder (token, styresystem, appversion, sidst set), "
    "stille timer og dagligt loft, og hvor mange beskeder du har fået i dag.",
    "Phones that receive your messages (token, platform, app version, last seen), quiet "
    "hours and daily limit, and how many messages you got today.",
)
JOB_AGENT = Purpose(
    "jobAgent",
    "Jobagent",
    "Job agent",
    "Din jobagent (stillinger, afstand, timer, nøgleord, hvor ofte) og hvilke job den har "
    "sendt dig, så du aldrig får det samme job to gange.",
    "Your job agent (occupations, distance, hours, keywords, how often) and which jobs it "
    "sent you, so you never get the same job twice.",
)

PURPOSES: tuple[Purpose, ...] = (
    PROFILE,
    CVS,
    PROFILING,
    CONSENTS,
    JOB_ANSWERS,
    JOBLOG,
    SAVED_JOBS,
    CV_VIEWS,
    SWIPES,
    MEETINGS,
    NOTIFICATIONS,
    DEVICES,
    JOB_AGENT,
)


@dataclass(frozen=True)
class Holding:
    collection: str
    purpose: Purpose
    owner: str  # the field holding the citizen's id
    erasure: Erasure = Erasure.DELETE
    keep_on_anonymise: tuple[str, ...] = ()  # fields that stay (non-personal); all else goes


HOLDINGS: tuple[Holding, ...] = (
    Holding(c.CITIZENS, PROFILE, "_id"),
    Holding(c.CVS, CVS, "citizenId"),
    Holding(c.PROFILE_VECTORS, PROFILING, "_id"),
    Holding(c.CONSENT_EVENTS, CONSENTS, "citizenId"),
    Holding(c.JOB_FEEDBACK, JOB_ANSWERS, "citizenId"),
    Holding(c.JOBLOG, JOBLOG, "citizenId"),
    Holding(c.SAVED_JOBS, SAVED_JOBS, "citizenId"),
    Holding(c.CV_VIEWS, CV_VIEWS, "citizenId"),
    Holding(
        c.MEETING_REQUESTS,
        MEETINGS,
        "citizenId",
        Erasure.ANONYMISE,
        # The employer keeps that a request to their offer existed and how it ended (their own
        # decisions included); nothing of or by the citizen.
        (
            "_id",
            "offerId",
            "companyCvr",
            "status",
            "createdAt",
            "updatedAt",
            "seenAt",
            "slotId",
            "decidedAt",
            "declineReason",
            "closedAt",
            "closeReason",
        ),
    ),
    Holding(
        c.MEETINGS,
        MEETINGS,
        "citizenId",
        Erasure.ANONYMISE,
        # The company's own meeting (its offer's title, place and time, and how it ended) stays
        # in its list and renders; the history of who moved it when and a cancel note go.
        (
            "_id",
            "requestId",
            "offerId",
            "companyCvr",
            "companyName",
            "title",
            "mode",
            "address",
            "videoUrl",
            "slotId",
            "startsAt",
            "endsAt",
            "status",
            "createdAt",
            "updatedAt",
            "closedAt",
            "closeReason",
        ),
    ),
    Holding(c.SWIPES, SWIPES, "citizenId"),
    Holding(c.SWIPE_QUOTA, SWIPES, "citizenId"),
    Holding(c.INBOX, NOTIFICATIONS, "recipientId"),
    Holding(c.OUTBOX, NOTIFICATIONS, "recipientId"),
    Holding(c.DEVICES, DEVICES, "userId"),
    Holding(c.NOTIFICATION_PREFS, DEVICES, "_id"),
    Holding(c.PUSH_COUNTS, DEVICES, "userId"),
    Holding(c.JOB_AGENTS, JOB_AGENT, "_id"),
    Holding(c.AGENT_ALERTS, JOB_AGENT, "citizenId"),
)

NOT_CITIZEN_DATA: dict[str, str] = {
    c.READINESS_PROBES: "One tiny document per API process, rewritten by /readyz (host, pid, "
    "time); no personal data.",
    c.OCCUPATIONS: "The public ESCO taxonomy.",
    c.ISCO_GROUPS: "The public DISCO-08 hierarchy.",
    c.COMPANIES: "Companies from the CVR register; public business data.",
    c.EMPLOYERS: "Employer user accounts (company staff), not citizens.",
    c.POSTINGS: "Job postings published by companies.",
    c.OFFERS: "Coffee-meeting offers published by companies; slot counts only.",
    c.ANONYMOUS_STATS: "Counts without any link to a person.",
    c.LOCKS: "Which API instance runs the job agent; no personal data.",
    c.OUTBOX_CLAIMS: "Push workers' leases on claimed outbox batches (claim id, worker id, "
    "lease end); no personal data.",
    c.MIGRATIONS: "Which one-off data fixes have run, and when; no personal data.",
    c.DELETED_ACCOUNTS: (
        "Tombstones of erased accounts: a one-way hash of the account id, so a token of an "
        "erased account is refused and nothing re-creates it, and when it was erased. The "
        "sign-in account's id stays only until the sign-in account itself is deleted (retried "
        "until it is), then only when that happened."
    ),
}


def holdings_for(purpose: Purpose) -> list[Holding]:
    return [h for h in HOLDINGS if h.purpose is purpose]


def unregistered(names: list[str]) -> list[str]:
    """Collection names the register does not account for."""
    known = {h.collection for h in HOLDINGS} | set(NOT_CITIZEN_DATA)
    return sorted(n for n in names if n not in known)
