import pytest

import k2d3


@pytest.fixture(scope="session")
def daily_d3_mk7():
    return k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
    ]})


@pytest.fixture(scope="session")
def live_server():
    """Start ``k2d3 serve`` (the real command, on a free local port) with the given options;
    returns its base URL. Every server started is stopped at the end of the session."""
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    import urllib.request

    started = []

    def start(*options) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would stall the server
        proc = subprocess.Popen([sys.executable, "-m", "k2d3.cli", "serve", "--port", str(port), *map(str, options)],
                                stdout=log, stderr=log, text=True)
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"k2d3 serve exited with {proc.returncode}: {log.read()}")
            try:
                with urllib.request.urlopen(base + "/api/observables", timeout=5) as r:
                    if r.status == 200:
                        return base
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("k2d3 serve did not answer within 120 s")

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
