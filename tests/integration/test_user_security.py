"""Integration: the desktop user and bad configuration against the full image (issue 10).

Each test starts its own container of the distro's image (the shared `desktop` fixture is not
restarted or broken): symlinks planted by the user survive a real `docker restart` without root
following them; PASSWORD_FILE keeps the password out of `docker inspect`; bad values stop the
container at once with one line, before the account or home exist.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from itsetup import CREDS, TIMEOUT, UID, USER
from python_on_whales import Container, DockerClient
from support import integration

from helios.matrix import Distro

HOME = f"/home/{USER}"
BASE_ENV = {"USER": USER, "UID": str(UID), "PASSWORD": CREDS.password}
# What root's boot touches, snapshotted around the attack: owner, mode and content.
SNAPSHOT = (
    "find /usr/lib/helios /etc/s6-overlay /srv/targets -xdev -printf '%p %u:%g %m\\n' | sort;"
    " find /srv/targets -type f -exec sha256sum {} + | sort"
)
MAKE_TARGETS = (
    "mkdir -p /srv/targets/dir && echo secret >/srv/targets/file && chmod 0600 /srv/targets/file"
)
# As the user: the attack of the issue, plus every name the desktop session touches at boot.
PLANT = (
    # mv, not rm -rf: the running session may be writing into ~/.config meanwhile.
    "cd ~ && for n in .cache .config .Xauthority .ICEauthority .local .dbus; do"
    ' if [ -e "$n" ] || [ -L "$n" ]; then mv "$n" "$n.moved"; fi; done'
    " && ln -s /usr/lib/helios .cache && ln -s /etc/s6-overlay .config"
    " && ln -s /srv/targets/file .Xauthority && ln -s /srv/targets/file .ICEauthority"
    " && ln -s /srv/targets/dir .local && ln -s /srv/targets/dir .dbus"
)


def run_exec(container: Container, script: str, user: str = "root") -> str:
    return container.execute(["bash", "-c", script], user=user)


@contextmanager
def started(
    client: DockerClient, image: str, env: dict[str, str], **kwargs: object
) -> Iterator[Container]:
    container = client.run(
        image,
        detach=True,
        name=f"helios-test-sec-{uuid.uuid4().hex[:8]}",
        envs=env,
        publish=[(0, 3000)],
        **kwargs,  # type: ignore[arg-type]
    )
    try:
        yield container
    finally:
        client.container.remove(container, force=True, volumes=True)


def url_of(client: DockerClient, container: Container) -> str:
    ports = client.container.inspect(container).network_settings.ports["3000/tcp"]
    return f"http://127.0.0.1:{ports[0]['HostPort']}"


def wait_healthy(client: DockerClient, container: Container) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        state = client.container.inspect(container).state
        logs = client.container.logs(container)[-3000:] if not state.running else ""
        assert state.running, f"container exited ({state.exit_code}):\n{logs}"
        try:
            if integration.http_get(f"{url_of(client, container)}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"no /health 200 after {TIMEOUT}s:\n{client.container.logs(container)[-3000:]}")


@pytest.fixture
def image(helios_image: tuple[Distro, str]) -> str:
    return helios_image[1]


def test_symlinks_planted_by_the_user_survive_a_restart_without_root_following_them(
    docker_client: DockerClient, image: str
) -> None:
    with started(docker_client, image, BASE_ENV) as container:
        wait_healthy(docker_client, container)
        run_exec(container, MAKE_TARGETS)
        before = run_exec(container, SNAPSHOT)
        run_exec(container, PLANT, user=USER)
        docker_client.container.restart(container)
        wait_healthy(docker_client, container)
        assert run_exec(container, SNAPSHOT) == before
        assert run_exec(container, "stat -c '%u %a' /usr/lib/helios").strip() == "0 755"
        # The user cannot write where root's scripts live.
        denied = "touch /usr/lib/helios/x 2>/dev/null && echo wrote || echo denied"
        assert run_exec(container, denied, user=USER).strip() == "denied"
        logs = docker_client.container.logs(container)
        assert "~/.cache is a symbolic link; left as it is" in logs
        # The desktop still comes up: the session works around the broken directories.
        assert f"{HOME}/.config is not a writable directory; this session uses" in logs


def test_password_file_keeps_the_password_out_of_docker_inspect(
    docker_client: DockerClient, image: str, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text(CREDS.password + "\n")
    secret.chmod(0o444)
    env = {"USER": USER, "UID": str(UID), "PASSWORD_FILE": "/run/secrets/helios-password"}
    volume = (str(secret), "/run/secrets/helios-password", "ro")
    with started(docker_client, image, env, volumes=[volume]) as container:
        wait_healthy(docker_client, container)
        url = url_of(docker_client, container)
        assert integration.http_get(f"{url}/")[0] == 401
        assert integration.http_get(f"{url}/", CREDS)[0] == 200
        inspect = docker_client.container.inspect(container)
        assert CREDS.password not in " ".join(inspect.config.env or [])
        assert CREDS.password not in docker_client.container.logs(container)


BAD = [
    ({"HTTP_PORT": "abc"}, "HTTP_PORT must be"),
    ({"PREFIX": "nope"}, "PREFIX must start and end with /"),
    ({"GID": "42"}, "GID 42 is the system group shadow"),
    ({"DRINODE": "/nonexistent"}, "DRINODE must be a render node"),
    ({"TITLE": "x" * 65}, "TITLE must be 1 to 64 characters long"),
    ({"PASSWORD_FILE": "/etc/hostname"}, "PASSWORD and PASSWORD_FILE are both set"),
]


@pytest.mark.parametrize(("extra", "message"), BAD, ids=[next(iter(e)) for e, _ in BAD])
def test_bad_value_stops_at_once_before_anything_is_created(
    docker_client: DockerClient, image: str, extra: dict[str, str], message: str
) -> None:
    started_at = time.monotonic()
    with started(docker_client, image, {**BASE_ENV, **extra}) as container:
        code = integration.wait_exited(docker_client, container.id, 20)
        elapsed = time.monotonic() - started_at
        logs = docker_client.container.logs(container)
        changed = set(docker_client.container.diff(container))
    errors = [line for line in logs.splitlines() if line.startswith("[helios]")]
    assert code != 0 and elapsed < 20
    assert len(errors) == 1 and message in errors[0], logs
    assert not any(path.startswith(HOME) or path == "/etc/passwd" for path in changed), changed


def test_bad_kasmvnc_conf_line_stops_the_container_once(
    docker_client: DockerClient, image: str, tmp_path: Path
) -> None:
    conf = tmp_path / "kasmvnc.conf"
    conf.write_text("# custom\nFrameRate 9000\n")
    volume = (str(conf), "/etc/kasm/kasmvnc.conf", "ro")
    with started(docker_client, image, BASE_ENV, volumes=[volume]) as container:
        code = integration.wait_exited(docker_client, container.id, 20)
        logs = docker_client.container.logs(container)
    hits = [line for line in logs.splitlines() if "/etc/kasm/kasmvnc.conf:2:" in line]
    assert code != 0
    assert len(hits) == 1, logs
    assert "FrameRate must be an integer from 1 to 240" in hits[0]


def test_init_hook_directory_exists_in_the_image(docker_client: DockerClient, image: str) -> None:
    out = docker_client.run(
        image, ["-c", "stat -c '%U %a %F' /etc/helios/init.d"], entrypoint="sh", remove=True
    )
    assert str(out).strip() == "root 755 directory"
