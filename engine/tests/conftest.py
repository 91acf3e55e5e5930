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


def send_control(run_dir: Path, message: dict) -> dict:
    """One command to a running engine through its control socket (control.json names it); its answer."""
    import json
    import socket

    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(json.loads((run_dir / "control.json").read_text())["socket"])
        stream = client.makefile("rw")
        stream.write(json.dumps(message) + "\n")
        stream.flush()
        return json.loads(stream.readline())
    finally:
        client.close()
