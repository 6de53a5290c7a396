"""Where the vendor-written test inputs live: ``shared/fixtures`` beside the repository (or beside
one of its parent folders, for a checkout kept one level deeper)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_fixtures() -> Path:
    for folder in REPO_ROOT.parents:
        candidate = folder / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    return REPO_ROOT.parent / "shared" / "fixtures"


SHARED_FIXTURES = _shared_fixtures()
