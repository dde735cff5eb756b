"""Constants shared by the integration suite's conftest and tests (the Desktop record of a
running container is support.integration.Desktop)."""

import os
import uuid

from support.integration import Credentials
from testcontainers.core.container import DockerContainer

from helios import matrix

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


def suite_container(image: str, name: str, *ports: int, **env: str) -> DockerContainer:
    """A container of `image` with the suite's user settings (plus `env`), `ports` published,
    named helios-<name>-<random> (not started)."""
    return (
        DockerContainer(image)
        .with_name(f"helios-{name}-{uuid.uuid4().hex[:8]}")
        .with_exposed_ports(*ports)
        .with_envs(USER=USER, UID=str(UID), GID=str(GID), PASSWORD=CREDS.password, **env)
    )
