import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "engine"))


def shared_fixture(relative: str) -> Path:
    """The shared fixture files: the copies in test/ (every clone has them), else ../shared beside the checkout or shared/ inside it."""
    for base in (ROOT / "test", ROOT.parent / "shared", ROOT / "shared"):
        if (base / relative).exists():
            return base / relative
    raise FileNotFoundError(f"fixture {relative} not found in ../shared or ./shared")
