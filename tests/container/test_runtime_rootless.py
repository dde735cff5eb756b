"""Container tier: least privilege (issue 11) — the runtime started as a non-root user, and as
root with a read-only root filesystem.

Without root no account can be created: init-user writes the account to /run/helios/nss, read
through nss_wrapper, and checks that the home it cannot make is there. With root but a read-only
/etc it does the same and still drops to the user.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient
from runtime.harness import ENV_DIR, Box

ME = "1234:1234"
IDENTITY = (
    "/command/with-contenv /usr/lib/helios/run-as-user.sh bash -c"
    " 'id -u; id -g; id -un; whoami; getent passwd alice; echo $HOME; pwd'"
)


def prepare(box: Box, uid: str = "1234", gid: str = "1234") -> None:
    """What the documented mounts give: /run and the home owned by the user (tmpfs uid=)."""
    box.ok(f"chown {uid}:{gid} /run && install -d -o {uid} -g {gid} /home/alice")


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        yield container


def test_non_root_start_names_the_account_without_touching_etc(box: Box) -> None:
    prepare(box)
    before = box.accounts()
    box.set_env(USER="alice", PASSWORD="pw")
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    result = box.up("init-user", user=ME)
    assert result.rc == 0, result.err
    # /etc and /home are exactly as they were, apart from the home's skeleton.
    assert box.ok("cat /etc/passwd /etc/group /etc/shadow /etc/gshadow") in before
    out = box.ok(IDENTITY, user=ME).split("\n")
    assert out[:4] == ["1234", "1234", "alice", "alice"]
    assert out[4] == "alice:x:1234:1234:alice:/home/alice:/bin/bash"
    assert out[5:7] == ["/home/alice", "/home/alice"]
    assert box.ok("stat -c '%u %a' /run/helios/htpasswd").strip() == "1234 600"
    assert box.ok("test -f /home/alice/.bashrc && stat -c %u /home/alice/.config").strip() == "1234"
    assert box.sh(f"test -e {ENV_DIR}/PASSWORD").rc != 0


def test_openshift_arbitrary_uid_with_group_zero(box: Box) -> None:
    prepare(box, uid="1000680000", gid="0")
    box.set_env(USER="alice", PASSWORD="pw")
    box.ok(f"chown -R 1000680000:0 {ENV_DIR}")
    result = box.up("init-user", user="1000680000:0")
    assert result.rc == 0, result.err
    out = box.ok(IDENTITY, user="1000680000:0").split("\n")
    assert out[:4] == ["1000680000", "0", "alice", "alice"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"UID": "1000"}, "UID 1000 does not match the user this container runs as (uid 1234)"),
        ({"UID": "1234", "GID": "99"}, "GID 99 does not match the group this container runs as"),
        ({"USER": "root"}, "USER must not be a system account name"),
    ],
)
def test_non_root_ids_must_match_the_process(
    box: Box, variables: dict[str, str], message: str
) -> None:
    prepare(box)
    box.set_env(**{"USER": "alice", "PASSWORD": "pw", **variables})
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    result = box.up("init-user", user=ME)
    assert (result.rc, len(result.err_lines)) == (2, 1), result.err
    assert result.err_lines[0].startswith(f"[helios] {message}")
    assert box.sh("test -e /run/helios/nss/passwd").rc != 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("rmdir /home/alice", "/home/alice does not exist and /home is not writable by uid 1234"),
        ("chown root:root /home/alice", "/home/alice is not writable by uid 1234"),
    ],
)
def test_non_root_home_must_exist_and_be_writable(box: Box, setup: str, message: str) -> None:
    prepare(box)
    box.ok(setup)
    box.set_env(USER="alice", PASSWORD="pw")
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    result = box.up("init-user", user=ME)
    assert (result.rc, len(result.err_lines)) == (2, 1), result.err
    assert result.err_lines[0].startswith(f"[helios] {message}")


def test_non_root_devices_are_left_to_the_runtime(box: Box) -> None:
    prepare(box)
    box.ok("mkdir -p /dev/dri && mknod -m 600 /dev/dri/renderD128 c 226 128")
    box.set_env(USER="alice", PASSWORD="pw")
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    assert box.up("init-user", user=ME).rc == 0
    result = box.up("init-devices", user=ME)
    assert result.rc == 0, result.err
    assert "not root: device access comes from the container runtime" in result.err


def test_root_with_read_only_root_filesystem(docker: DockerClient, runtime_image: str) -> None:
    tmpfs = ["/run:exec", "/tmp:exec", "/home/alice"]
    with Box(docker, runtime_image, read_only=True, tmpfs=tmpfs) as box:
        assert box.sh("touch /etc/x").rc != 0  # really read-only
        box.ok("mkdir -p /dev/dri && mknod -m 660 /dev/dri/renderD128 c 226 128")
        box.ok("chgrp 4242 /dev/dri/renderD128")
        box.set_env(USER="alice", UID="1234", GID="2345", PASSWORD="pw")
        result = box.up("init-user")
        assert result.rc == 0, result.err
        devices = box.up("init-devices")
        assert devices.rc == 0, devices.err
        out = box.ok(IDENTITY).split("\n")
        assert out[:4] == ["1234", "2345", "alice", "alice"]
        groups = box.ok("/command/with-contenv /usr/lib/helios/run-as-user.sh id -Gn").split()
        assert {"alice", "audio", "video", "helios-dev4242"} <= set(groups)
        assert box.ok("stat -c '%u:%g %a' /home/alice").strip() == "1234:2345 750"
        assert box.ok("stat -c '%U:%G %a' /run/helios/htpasswd").strip() == "root:www-data 640"


def test_non_root_home_is_made_in_a_writable_home_parent(box: Box) -> None:
    """Kubernetes: the home volume at /home is group-writable through fsGroup."""
    prepare(box)
    box.ok("rmdir /home/alice && chgrp 1234 /home && chmod 2775 /home")
    box.set_env(USER="alice", PASSWORD="pw")
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    result = box.up("init-user", user=ME)
    assert result.rc == 0, result.err
    uid, mode = box.ok("stat -c '%u %a' /home/alice; test -f /home/alice/.bashrc").split()
    assert (uid, int(mode, 8) & 0o777) == ("1234", 0o750)
