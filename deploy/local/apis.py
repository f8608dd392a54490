"""The platform's HTTP APIs as the Procfile declares them, for the Makefile.

    python3 deploy/local/apis.py urls    the base URL of every API, one per line
    python3 deploy/local/apis.py env     CHS_<SERVICE>_URL=... assignments for the demo scripts
    python3 deploy/local/apis.py table   a line per API for `make up` to print

An API line looks like ``enrollment-api: CHS_HTTP_PORT=${CHS_ENROLLMENT_HTTP_PORT:-8101} exec …``;
the port variable, when set in the environment, wins over the default. Standard library only.
"""

import os
import re
import sys
from pathlib import Path

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
API_LINE = re.compile(
    r"^(?P<service>[\w-]+)-api:\s*CHS_HTTP_PORT=\$\{(?P<var>\w+):-(?P<port>\d+)\}"
)


def apis() -> list[tuple[str, str]]:
    found = []
    for line in PROCFILE.read_text(encoding="utf-8").splitlines():
        if match := API_LINE.match(line):
            port = os.environ.get(match["var"]) or match["port"]
            found.append((match["service"], f"http://127.0.0.1:{port}"))
    return found


def main(command: str) -> None:
    for service, url in apis():
        if command == "urls":
            print(url)
        elif command == "env":
            print(f"CHS_{service.upper().replace('-', '_')}_URL={url}")
        else:
            print(f"  {service + ' API':18} {url}   (/healthz, /readyz, /docs)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "table")
