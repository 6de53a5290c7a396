"""Where the vendor-written test inputs live: ``shared/fixtures`` beside the repository."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
