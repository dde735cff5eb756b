"""Constants and the Desktop record shared by the integration suite's conftest and tests."""

import os
from dataclasses import dataclass

from support.integration import Credentials
from testcontainers.core.container import DockerContainer

from helios import matrix
from helios.matrix import Distro

DISTROS = matrix.load()
TIMEOUT = float(os.environ.get("HELIOS_IT_TIMEOUT", "180"))
USER, UID, GID = "heliostest", 1234, 2345
# A throwaway test password with characters that break naive quoting.
CREDS = Credentials(USER, "It-pw: $HOME 'q' \"d\" \\ x")
HOOK_PATH = "/etc/helios/init.d/50-helios-test.sh"
CUSTOM_PATH = "/etc/helios/services.d/custom.sh"
HOOK_OUT = "/var/tmp/helios-test-hook.out"
CUSTOM_PID = "/var/tmp/helios-test-custom.pid"
HOOK = f"""#!/usr/bin/env bash
# helios integration test hook: records whether the user existed yet and who ran it
if getent passwd "$USER" >/dev/null; then state=present; else state=absent; fi
printf 'user=%s uid=%s\\n' "$state" "$(id -u)" > {HOOK_OUT}
"""
CUSTOM = f"""#!/usr/bin/env bash
# helios integration test service: records its pid, then idles until killed
echo "$$" > {CUSTOM_PID}
exec sleep infinity
"""


@dataclass(frozen=True)
class Desktop:
    distro: Distro
    image: str
    container: DockerContainer
    host: str
    port: int
    ready_seconds: float

    @property
    def id(self) -> str:
        return str(self.container.get_wrapped_container().id)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
