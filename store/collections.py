"""Collection names, in one place so repositories, seeders and the erasure check agree."""

CITIZENS = "citizens"
COMPANIES = "companies"
EMPLOYERS = "employers"
OUTBOX = "outbox"
OUTBOX_CLAIMS = "outbox_claims"  # one document per worker's claimed batch: its lease
OCCUPATIONS = "occupations"
ISCO_GROUPS = "isco_groups"
POSTINGS = "postings"
OFFERS = "offers"
MEETING_REQUESTS = "meeting_requests"
CVS = "cvs"
PROFILE_VECTORS = "profile_vectors"
JOB_FEEDBACK = "job_feedback"
CONSENT_EVENTS = "consent_events"
JOBLOG = "joblog"
SAVED_JOBS = "saved_jobs"
CV_VIEWS = "cv_views"
INBOX = "inbox"
ANONYMOUS_STATS = "anonymous_stats"
SWIPES = "swipes"
SWIPE_QUOTA = "swipe_quota"
MEETINGS = "meetings"
DEVICES = "devices"
NOTIFICATION_PREFS = "notification_prefs"
PUSH_COUNTS = "push_counts"
JOB_AGENTS = "job_agents"
AGENT_ALERTS = "agent_alerts"
LOCKS = "locks"
MIGRATIONS = "migrations"
DELETED_ACCOUNTS = "deleted_accounts"
READINESS_PROBES = "readiness_probes"  # one tiny document per API process (store/health.py)


def all_names() -> list[str]:
    """Every collection name declared above; the personal-data register must cover each."""
    return sorted(v for k, v in globals().items() if k.isupper() and isinstance(v, str))
