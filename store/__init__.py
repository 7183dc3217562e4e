"""Persistence shared by every package: client lifecycle, collection names, index definitions,
and the embedded database process. Feature repositories own their queries; this owns the rest."""
