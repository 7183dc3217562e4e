"""Citizens: profile, CV variants, consents, joblog and "Mine data"."""
