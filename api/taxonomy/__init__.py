"""The occupation taxonomy (ESCO occupations with Danish labels, ISCO-08 groups) for the app."""
