"""`viewer`: the authenticated account, its role and (for employers) its company."""
