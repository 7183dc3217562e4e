"""Collection names, in one place so repositories, seeders and the erasure check agree."""

CITIZENS = "citizens"
COMPANIES = "companies"
EMPLOYERS = "employers"
OUTBOX = "outbox"
