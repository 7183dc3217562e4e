"""Who is calling: token verification (local dev tokens or Firebase ID tokens), the Actor,
and permission classes for resolvers."""
