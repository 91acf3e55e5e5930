import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "engine"))


def shared_fixture(relative: str) -> Path:
    """The shared fixture files: ../shared beside the checkout (developers, CI) or shared/ inside it."""
    for base in (ROOT.parent / "shared", ROOT / "shared"):
        if (base / relative).exists():
            return base / relative
    raise FileNotFoundError(f"fixture {relative} not found in ../shared or ./shared")
