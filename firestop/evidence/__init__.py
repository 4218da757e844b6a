"""Evidence kept for an incident: files with their SHA-256 in a manifest (chain of custody)."""

from firestop.evidence.store import EvidenceItem, EvidenceStore, sha256_file

__all__ = ["EvidenceItem", "EvidenceStore", "sha256_file"]
