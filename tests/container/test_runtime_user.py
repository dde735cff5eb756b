"""Container tier: init-hooks, init-user, init-devices, svc-custom in bookworm/sid containers.

The scripts of common/root run through their real s6-rc `up`/`run` files (see runtime/harness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from runtime.harness import ENV_DIR, Box, shadow_accepts

ID_RULE = "must be a decimal integer from 1 to 60000"
SYSTEM_ACCOUNT = "must not be a system account name"


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        yield container


def env(**overrides: str | None) -> dict[str, str]:
    base = {"USER": "alice", "UID": "1234", "PASSWORD": "correct horse"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


BAD_INPUT = [
    (env(USER=None), "USER is required and must not be empty"),
    (env(USER=""), "USER is required and must not be empty"),
    (env(UID=None), "UID is required and must not be empty"),
    (env(UID=""), "UID is required and must not be empty"),
    (env(PASSWORD=None), "PASSWORD is required and must not be empty"),
    (env(PASSWORD=""), "PASSWORD is required and must not be empty"),
    (env(PASSWORD="two\nlines"), "PASSWORD must be a single line"),
    *[
        (env(UID=value), f"UID {ID_RULE}")
        for value in ("abc", "0", "-5", "1e3", " 1000", "01000", "1000.0", "60001", "4294967295")
    ],
    *[(env(GID=value), f"GID {ID_RULE}") for value in ("0", "x", "70000", "+1000")],
    (env(USER="Bob"), "USER must match ^[a-z_][a-z0-9_-]*$"),
    (env(USER="1abc"), "USER must match ^[a-z_][a-z0-9_-]*$"),
    (env(USER="bob;id"), "USER must match ^[a-z_][a-z0-9_-]*$"),
    (env(USER="bob smith"), "USER must match ^[a-z_][a-z0-9_-]*$"),
    (env(USER="a" * 33), "USER must be at most 32 characters long"),
    *[
        (env(USER=name), f"USER {SYSTEM_ACCOUNT}")
        for name in ("root", "daemon", "nobody", "www-data", "audio", "_apt")
    ],
    (env(USER="svcacct"), "USER must not be a system account name, 'svcacct' is a system account"),
    (env(USER="grponly"), "USER must not be a system group name, 'grponly' is a system group"),
    (env(UID="33"), "UID 33 belongs to system account www-data"),
    (env(UID="990"), "UID 990 belongs to system account svcacct"),
    # System groups as the primary group (found by id; `disk`/`shadow` grant raw disk and
    # /etc/shadow), also when GID defaults to a UID that a system group holds.
    (env(GID="42"), "GID 42 is the system group shadow"),
    (env(GID="6"), "GID 6 is the system group disk"),
    (env(GID="27"), "GID 27 is the system group sudo"),
    (env(GID="991"), "GID 991 is the system group grponly"),
    (env(UID="991"), "GID 991 (GID defaults to UID) is the system group grponly"),
    (env(PASSWORD_FILE="/run/secrets/pw"), "PASSWORD and PASSWORD_FILE are both set"),
    (env(PASSWORD=None, PASSWORD_FILE="pw.txt"), "PASSWORD_FILE must be an absolute path"),
    (env(PASSWORD=None, PASSWORD_FILE="/nonexistent"), "PASSWORD_FILE /nonexistent is not a"),
    (env(PASSWORD=None, PASSWORD_FILE="/etc"), "PASSWORD_FILE /etc is not a readable regular"),
    (env(PASSWORD=None, PASSWORD_FILE="/dev/null"), "PASSWORD_FILE /dev/null is not a readable"),
]


def test_bad_input_is_rejected_before_anything_changes(box: Box) -> None:
    # System entries that are not in the reserved-name list, found through their ids.
    box.ok("useradd -r -u 990 -M svcacct && groupadd -r -g 991 grponly")
    before = box.accounts()
    failures = []
    for variables, message in BAD_INPUT:
        box.set_env(**variables)
        result = box.up("init-user")
        lines = result.err_lines
        if (
            result.rc != 2
            or len(lines) != 1
            or not lines[0].startswith(f"[helios] {message}")
            or box.accounts() != before
        ):
            failures.append(f"{variables!r}: rc={result.rc} stderr={result.err!r}")
        if box.sh(f"test -e {ENV_DIR}/PASSWORD").rc == 0:
            failures.append(f"{variables!r}: PASSWORD left in the container environment")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("gid", "expected_gid"), [(None, "1234"), ("2345", "2345")])
def test_user_is_created_with_gid_defaulting_to_uid(
    box: Box, gid: str | None, expected_gid: str
) -> None:
    box.set_env(**env(GID=gid))
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert box.ok("id -u alice; id -g alice; id -gn alice").split() == [
        "1234",
        expected_gid,
        "alice",
    ]
    groups = box.ok("id -Gn alice").split()
    assert {"audio", "video", "ssl-cert"} <= set(groups)
    assert box.ok("stat -c '%u:%g %a' /home/alice").strip() == f"1234:{expected_gid} 750"
    assert box.ok("stat -c '%u %a' /home/alice/.bashrc").strip() == "1234 644"
    assert box.ok("getent passwd alice | cut -d: -f6,7").strip() == "/home/alice:/bin/bash"
    # Snakeoil key readable by the user through ssl-cert only.
    key = "/etc/ssl/private/ssl-cert-snakeoil.key"
    assert box.ok(f"stat -c '%U:%G %a' {key}").strip() == "root:ssl-cert 640"
    # Hashes only, owner-only files, plaintext removed from the s6 environment.
    assert box.ok("getent shadow alice | cut -d: -f2").startswith("$6$")
    assert box.ok("stat -c '%U:%G %a' /run/helios/htpasswd").strip() == "root:www-data 640"
    assert box.ok("cut -d: -f1 /run/helios/htpasswd").strip() == "alice"
    assert box.sh(f"test -e {ENV_DIR}/PASSWORD").rc != 0


def test_uid_and_gid_of_a_stock_account_are_taken_over(box: Box) -> None:
    # What ubuntu:noble ships: user and group `ubuntu` with uid/gid 1000.
    box.ok("groupadd -g 1000 ubuntu && useradd -m -u 1000 -g 1000 -s /bin/bash ubuntu")
    box.set_env(**env(USER="bob", UID="1000"))
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert "removed existing account ubuntu to free UID 1000 for bob" in result.err
    assert box.ok("id -u bob; id -g bob; id -gn bob").split() == ["1000", "1000", "bob"]
    assert box.sh("getent passwd ubuntu").rc == 2
    assert box.sh("getent group ubuntu").rc == 2
    assert box.ok("getent passwd 1000 | cut -d: -f1").strip() == "bob"
    assert box.ok("test -d /home/ubuntu && echo kept").strip() == "kept"


def test_gid_of_another_group_is_used_and_logged(box: Box) -> None:
    box.ok("groupadd -g 1500 staff2")
    box.set_env(**env(USER="carl", UID="1500"))
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert "GID 1500 belongs to existing group staff2; using it as carl's primary group" in (
        result.err
    )
    assert box.ok("id -u carl; id -gn carl").split() == ["1500", "staff2"]


def test_restart_is_idempotent_and_a_new_password_applies(box: Box) -> None:
    box.set_env(**env(PASSWORD="first password"))
    assert box.up("init-user").rc == 0
    box.ok("install -o 1234 -m 600 /dev/null /home/alice/notes && echo keep >/home/alice/notes")
    entries = box.ok("grep -h '^alice:' /etc/passwd /etc/group")
    box.set_env(**env(PASSWORD="first password"))
    second = box.up("init-user")
    assert second.rc == 0, second.err
    assert "created user" not in second.err
    assert box.ok("grep -h '^alice:' /etc/passwd /etc/group") == entries
    assert box.ok("cat /home/alice/notes").strip() == "keep"
    assert shadow_accepts(box, "alice", "first password")

    box.set_env(**env(PASSWORD="second password"))
    assert box.up("init-user").rc == 0
    assert shadow_accepts(box, "alice", "second password")
    assert not shadow_accepts(box, "alice", "first password")
    assert box.ok("grep -c '^alice:' /etc/passwd /etc/shadow /etc/group").split() == [
        "/etc/passwd:1",
        "/etc/shadow:1",
        "/etc/group:1",
    ]


def test_existing_home_is_kept_without_recursive_chown(box: Box) -> None:
    box.ok(
        "mkdir -p /home/carol/projects && echo data >/home/carol/projects/file"
        " && chown -R 4321:4321 /home/carol/projects && chown root:root /home/carol"
        " && chmod 700 /home/carol"
    )
    box.set_env(**env(USER="carol", UID="1500"))
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert "kept existing home /home/carol" in result.err
    assert box.ok("stat -c '%u:%g' /home/carol").strip() == "1500:1500"
    assert box.ok("stat -c '%u:%g' /home/carol/projects /home/carol/projects/file").split() == [
        "4321:4321",
        "4321:4321",
    ]
    assert box.ok("cat /home/carol/projects/file").strip() == "data"
    # The user can work in it: the config dirs the desktop needs belong to it.
    assert box.ok("stat -c '%u %a' /home/carol/.config").strip() == "1500 700"


HOOK = 'printf "%s uid=%s var=%s user=%s\\n" "${0##*/}" "$(id -u)" "${HOOKVAR:-}" '
HOOK += '"$(getent passwd "$USER" >/dev/null && echo yes || echo no)" >>/tmp/hooks.log\n'


def write_hooks(folder: Path, names: list[str], failing: str | None = None) -> None:
    folder.mkdir()
    for name in names:
        body = HOOK + ("exit 7\n" if name == failing else "")
        (folder / name).write_text(body)
        (folder / name).chmod(0o644)


def test_hooks_run_in_lexical_order_read_only_without_x_bit(
    docker: DockerClient, runtime_image: str, tmp_path: Path
) -> None:
    names = ["20-third.sh", "a-lower", "02-first", "B-upper", "10-second"]
    write_hooks(tmp_path / "init.d", names)
    volume = (str(tmp_path / "init.d"), "/etc/helios/init.d", "ro")
    with Box(docker, runtime_image, volumes=[volume]) as box:
        assert box.sh("touch /etc/helios/init.d/x").rc != 0  # really read-only
        assert box.sh("test -x /etc/helios/init.d/02-first").rc != 0
        box.set_env(**env(HOOKVAR="from-env"))
        result = box.up("init-hooks")
        assert result.rc == 0, result.err
        log = box.ok("cat /tmp/hooks.log").splitlines()
    assert [line.split()[0] for line in log] == sorted(names)  # byte order: 0-9 < A-Z < a-z
    assert all(line.endswith("uid=0 var=from-env user=no") for line in log)


def test_failing_hook_stops_the_boot(
    docker: DockerClient, runtime_image: str, tmp_path: Path
) -> None:
    write_hooks(tmp_path / "init.d", ["10-ok", "15-fail", "20-never"], failing="15-fail")
    volume = (str(tmp_path / "init.d"), "/etc/helios/init.d", "ro")
    with Box(docker, runtime_image, volumes=[volume]) as box:
        box.set_env(**env())
        result = box.up("init-hooks")
        ran = box.ok("cut -d' ' -f1 /tmp/hooks.log").split()
    assert result.rc != 0
    assert "[helios] init hook 15-fail failed with exit code 7" in result.err_lines
    assert ran == ["10-ok", "15-fail"]


DEVICES = (
    "mkdir -p /dev/dri /dev/dvb/adapter0"
    " && mknod -m 660 /dev/dri/renderD128 c 226 128 && chgrp 4242 /dev/dri/renderD128"
    " && mknod -m 660 /dev/dri/card0 c 226 0 && chgrp video /dev/dri/card0"
    " && mknod -m 640 /dev/dvb/adapter0/frontend0 c 212 0"
    " && chgrp 4243 /dev/dvb/adapter0/frontend0"
    " && mknod -m 600 /dev/dri/card9 c 226 9"
    " && mknod -m 660 /dev/dri/card7 c 226 7 && chgrp disk /dev/dri/card7"
    " && mknod -m 660 /dev/dri/card8 c 226 8 && chgrp shadow /dev/dri/card8"
    " && mknod -m 666 /dev/dri/card6 c 226 6 && chgrp 4244 /dev/dri/card6"
)
DEVICE_PATHS = (
    "/dev/dri/renderD128 /dev/dri/card0 /dev/dvb/adapter0/frontend0 /dev/dri/card9"
    " /dev/dri/card7 /dev/dri/card8 /dev/dri/card6"
)


def test_devices_are_made_accessible_through_groups(box: Box) -> None:
    box.ok(DEVICES)
    before = box.ok(f"stat -c '%n %a %u:%g' {DEVICE_PATHS}")
    box.set_env(**env())
    assert box.up("init-user").rc == 0
    result = box.up("init-devices")
    assert result.rc == 0, result.err
    groups = set(box.ok("id -Gn alice").split())
    assert {"helios-dev4242", "helios-dev4243", "video"} <= groups
    # Privileged groups are never joined through a device; world-usable devices need no group.
    assert not groups & {"disk", "shadow", "root", "helios-dev4244"}, groups
    # A device node may be the host's (bind mount): it is never changed.
    assert box.ok(f"stat -c '%n %a %u:%g' {DEVICE_PATHS}") == before
    assert "/dev/dri/card9 belongs to group root; not granting access" in result.err
    assert "/dev/dri/card7 belongs to privileged group disk; not adding alice to it" in result.err
    assert "/dev/dri/card8 belongs to privileged group shadow; not adding alice" in result.err
    assert "/dev/dvb/adapter0/frontend0 (mode 640) gives its group no read/write" in result.err
    refusals = [line for line in result.err_lines if "not " in line or "no read/write" in line]
    assert len(refusals) == 4 and all("--device" in line for line in refusals), refusals
    # Idempotent: a second run changes nothing and logs no additions.
    again = box.up("init-devices")
    assert again.rc == 0 and "added" not in again.err


def test_custom_service_runs_as_root_without_password(
    docker: DockerClient, runtime_image: str, tmp_path: Path
) -> None:
    custom = tmp_path / "services.d"
    custom.mkdir()
    (custom / "custom.sh").write_text(
        "id -u >/tmp/custom.out; env >>/tmp/custom.out; echo run >>/tmp/custom.runs\n"
    )
    (custom / "custom.sh").chmod(0o644)
    with Box(docker, runtime_image, volumes=[(str(custom), "/etc/helios/services.d", "ro")]) as box:
        box.set_env(**env())
        assert box.up("init-user").rc == 0
        # Even if PASSWORD were still in the container environment, the service must not see it.
        box.set_env(**env(EXTRA="visible"))
        box.start("svc-custom", "/tmp/custom.ready")
        box.wait_for("[ -s /tmp/custom.runs ]")
        lines = box.ok("cat /tmp/custom.out").splitlines()
    assert lines[0] == "0"
    variables = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert "PASSWORD" not in variables
    assert variables["EXTRA"] == "visible"
    assert variables["USER"] == "alice"
    assert variables["DISPLAY"] == ":1"


# A `sleep infinity` other than the container's own PID 1.
IDLE = """
for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = 1 ] && continue
    [ "$(tr '\\0' ' ' <"$p/cmdline" 2>/dev/null)" = "sleep infinity " ] && exit 0
done
exit 1
"""


def test_default_custom_service_idles(box: Box) -> None:
    box.set_env(**env())
    assert box.up("init-user").rc == 0
    box.put("/tmp/idle.sh", IDLE)
    box.start("svc-custom", "/tmp/custom.ready")
    box.wait_for("bash /tmp/idle.sh")
    assert box.sh("grep -q 'does not exist' /tmp/svc-custom.log").rc != 0


def test_user_programs_get_the_account_without_password(box: Box) -> None:
    box.set_env(**env())
    assert box.up("init-user").rc == 0
    box.set_env(**env())  # PASSWORD present again: run-as-user must still drop it
    out = box.ok(
        "/command/with-contenv /usr/lib/helios/run-as-user.sh bash -c 'id -u; id -Gn; pwd; env'"
    ).splitlines()
    assert out[0] == "1234"
    assert {"audio", "video", "ssl-cert"} <= set(out[1].split())
    assert out[2] == "/home/alice"
    variables = dict(line.split("=", 1) for line in out[3:] if "=" in line)
    assert "PASSWORD" not in variables
    assert variables["HOME"] == "/home/alice"
    assert variables["USER"] == "alice"
