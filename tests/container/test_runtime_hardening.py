"""Container tier: attacks from the desktop user on what root does at boot (issue 10).

The desktop user is untrusted. Each test plays an attack the old runtime fell for — a symlink
where root writes, a home that is a link, a system group as GID, a privileged device group, a
secret passed in the environment — and asserts the outcome: owners, modes and contents of the
targets, exit codes and the one log line.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient
from runtime.harness import ENV_DIR, SECRETS, Box, shadow_accepts

USER_ENV = {"USER": "alice", "UID": "1234", "PASSWORD": "correct horse"}
HOME = "/home/alice"
# Root-owned things an attacker would like root to chown, chmod or write through.
TARGETS = "/srv/targets"
MAKE_TARGETS = f"""
mkdir -p {TARGETS}/dirs && chmod 0755 {TARGETS} {TARGETS}/dirs
for n in $(seq 1 40); do
    mkdir -m 0751 {TARGETS}/dirs/d$n && echo "dir $n" >{TARGETS}/dirs/d$n/content
    printf 'file %s\\n' $n >{TARGETS}/f$n && chmod 0640 {TARGETS}/f$n
done
"""
SNAPSHOT = (
    f"find {TARGETS} /usr/lib/helios /etc/shadow -xdev -printf '%p %u:%g %m %s\\n' | sort;"
    f" find {TARGETS} -type f -exec sha256sum {{}} + | sort"
)
# Names root or the desktop handle in a home at every boot, besides what /etc/skel holds.
DOTFILES = (
    ".config .cache .local .dbus .Xauthority .ICEauthority .xsession-errors .pulse"
    " .pulse-cookie .vnc .kasmpasswd .gtkrc-2.0 Desktop .bashrc .profile .bash_logout"
)
# As the user: replace every entry of the home, and each dotfile name, by a symlink to a target
# (directories for the odd ones, files for the even ones), and one straight at /usr/lib/helios.
PLANT = f"""
cd {HOME}
i=0
for name in $(ls -A) {DOTFILES}; do
    [ -L "$name" ] && continue
    rm -rf -- "$name"
    i=$((i + 1))
    target={TARGETS}/f$i
    [ $((i % 2)) = 1 ] && target={TARGETS}/dirs/d$i
    ln -s "$target" "$name"
done
rm -rf .cache && ln -s /usr/lib/helios .cache
echo "$i"
"""


def as_user(box: Box, script: str) -> str:
    return box.ok(
        '/command/with-contenv /usr/lib/helios/run-as-user.sh bash -c "$1"', script
    ).strip()


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        container.ok(MAKE_TARGETS)
        yield container


def boot_user(box: Box, **overrides: str) -> None:
    box.set_env(**{**USER_ENV, **overrides})
    result = box.up("init-user")
    assert result.rc == 0, result.err


def test_symlinks_planted_in_the_home_are_never_followed_by_root(box: Box) -> None:
    boot_user(box)
    before = box.ok(SNAPSHOT)
    planted = int(as_user(box, PLANT))
    assert planted >= len(DOTFILES.split())
    # The restart: init-user runs again as root over the planted home.
    box.set_env(**USER_ENV)
    result = box.up("init-user")
    assert box.ok(SNAPSHOT) == before
    assert result.rc == 0, result.err
    assert "~/.cache is a symbolic link; left as it is" in result.err
    # The desktop user still cannot write where root's scripts live.
    assert box.sh(f"setpriv --reuid=1234 --regid=1234 --clear-groups touch {TARGETS}/f2").rc != 0
    assert box.ok("stat -c '%u %a' /usr/lib/helios").strip() == "0 755"


def test_planted_symlinks_in_tmp_are_replaced_not_followed(box: Box) -> None:
    boot_user(box)
    before = box.ok(SNAPSHOT)
    # /tmp is world-writable: before root makes them (a fresh /tmp), the user plants the
    # directories root makes for X and ICE.
    box.ok("rm -rf /tmp/.ICE-unix /tmp/.X11-unix")
    as_user(box, "ln -s /usr/lib/helios /tmp/.ICE-unix && ln -s /srv/targets/dirs /tmp/.X11-unix")
    assert box.sh("test -L /tmp/.ICE-unix && test -L /tmp/.X11-unix").rc == 0
    box.start("svc-desktop", "/tmp/desktop.ready")
    box.wait_for("[ -d /tmp/.ICE-unix ] && [ ! -L /tmp/.ICE-unix ]")
    assert box.ok("stat -c '%u %a %F' /tmp/.ICE-unix").strip() == "0 1777 directory"
    assert box.ok(SNAPSHOT) == before
    assert "removing /tmp/.ICE-unix: expected a root-owned directory" in box.ok(
        "cat /tmp/svc-desktop.log"
    )


def test_home_that_is_a_symlink_is_refused_before_anything_changes(box: Box) -> None:
    box.ok("ln -s /srv/targets/dirs/d1 /home/alice")
    before = box.ok(SNAPSHOT) + box.accounts()
    box.set_env(**USER_ENV)
    result = box.up("init-user")
    assert result.rc == 2
    assert result.err_lines == [
        "[helios] /home/alice is a symbolic link; the home must be a directory"
        " (or a volume mounted there)"
    ]
    assert box.ok(SNAPSHOT) + box.accounts() == before


def test_uid_change_on_a_kept_home_reowns_it_without_following_links(box: Box) -> None:
    boot_user(box)
    as_user(
        box,
        "mkdir -p work/deep && echo mine >work/deep/file && ln -s /srv/targets/f3 work/link"
        " && ln -s /srv/targets/dirs/d5 dirlink",
    )
    before = box.ok(SNAPSHOT)
    owned = int(box.ok(f"find {HOME} -xdev -uid 1234 | wc -l"))
    boot_user(box, UID="1500", GID="1500")
    result_log = box.ok(f"find {HOME} -xdev -uid 1234 | wc -l; find {HOME} -xdev -uid 1500 | wc -l")
    assert result_log.split() == ["0", str(owned)]
    assert box.ok(f"stat -c '%u:%g' {HOME}/work/link {HOME}/dirlink").split() == ["1500:1500"] * 2
    assert box.ok(SNAPSHOT) == before
    # The user keeps access to their files.
    out = box.ok("setpriv --reuid=1500 --regid=1500 --clear-groups cat /home/alice/work/deep/file")
    assert out.strip() == "mine"


def test_uid_change_logs_the_count(box: Box) -> None:
    boot_user(box)
    as_user(box, "touch a b c")
    owned = int(box.ok(f"find {HOME} -xdev -uid 1234 | wc -l"))
    box.set_env(**{**USER_ENV, "UID": "1600"})
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert f"re-owned {owned} entries of {HOME} from uid 1234 to 1600" in result.err


def test_gid_below_1000_is_accepted_when_unused_and_own_group_is_kept(box: Box) -> None:
    boot_user(box, GID="777")
    assert box.ok("id -g alice; getent group 777 | cut -d: -f1").split() == ["777", "alice"]
    # The next boot finds group 777 = alice: the user's own group, not a system group.
    boot_user(box, GID="777")


PASSWORD_FILE = f"{SECRETS}/password"


@pytest.mark.parametrize(
    ("content", "password"),
    [
        (b"s3cret from a file\n", "s3cret from a file"),
        (b"no newline", "no newline"),
        (b"crlf\r\n", "crlf"),
        (b"  spaces and $dollar 'q'  \n", "  spaces and $dollar 'q'  "),
    ],
)
def test_password_file_sets_the_password(box: Box, content: bytes, password: str) -> None:
    box.put(PASSWORD_FILE, content, mode="0400")
    box.set_env(USER="alice", UID="1234", PASSWORD_FILE=PASSWORD_FILE)
    result = box.up("init-user")
    assert result.rc == 0, result.err
    assert shadow_accepts(box, "alice", password)
    assert not shadow_accepts(box, "alice", password + "\n")
    # The file itself is left as it was, and no password reaches the s6 environment.
    assert box.ok(f"stat -c '%a' {PASSWORD_FILE}").strip() == "400"
    assert box.sh(f"test -e {ENV_DIR}/PASSWORD").rc != 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "PASSWORD_FILE /helios-test-secrets/password is empty"),
        (b"\n", "PASSWORD_FILE /helios-test-secrets/password is empty"),
        (b"one\ntwo\n", "PASSWORD_FILE /helios-test-secrets/password must hold a single line"),
        (b"nul\x00byte", "PASSWORD_FILE /helios-test-secrets/password must not contain NUL"),
        (b"x" * 5000, "PASSWORD_FILE /helios-test-secrets/password must hold one line, it has"),
    ],
)
def test_bad_password_file_is_rejected_before_anything_changes(
    box: Box, content: bytes, message: str
) -> None:
    box.put(PASSWORD_FILE, content, mode="0400")
    before = box.accounts()
    box.set_env(USER="alice", UID="1234", PASSWORD_FILE=PASSWORD_FILE)
    result = box.up("init-user")
    assert (result.rc, len(result.err_lines)) == (2, 1), result.err
    assert result.err_lines[0].startswith(f"[helios] {message}")
    assert box.accounts() == before


def test_check_mode_validates_without_creating_anything(box: Box) -> None:
    state = f"ls -A {ENV_DIR}; ls -A /run /home"
    box.set_env(**USER_ENV)
    before = box.accounts() + box.ok(state)
    ok = box.sh("/command/with-contenv /usr/lib/helios/init-user.sh --check")
    assert (ok.rc, ok.err) == (0, "")
    box.set_env(**{**USER_ENV, "GID": "42"})
    bad = box.sh("/command/with-contenv /usr/lib/helios/init-user.sh --check")
    assert bad.rc == 2 and bad.err_lines == [
        "[helios] GID 42 is the system group shadow; choose an unused GID"
        " or a regular group (1000-60000)"
    ]
    box.set_env(**USER_ENV)
    # --check leaves PASSWORD for init-user, and nothing appeared anywhere.
    assert box.accounts() + box.ok(state) == before
    assert box.sh(f"test -e {ENV_DIR}/PASSWORD").rc == 0


def test_htpasswd_is_root_owned_and_readable_by_nginx_only(box: Box) -> None:
    boot_user(box)
    assert box.ok("stat -c '%U:%G %a' /run/helios/htpasswd").strip() == "root:www-data 640"
    assert box.sh("setpriv --reuid=1234 --regid=1234 --init-groups cat /run/helios/htpasswd").rc
    assert box.sh("setpriv --reuid=33 --regid=33 --init-groups cat /run/helios/htpasswd").rc == 0


FINISH = "/usr/lib/helios/finish.sh"
STUB_ENV = "HELIOS_HALT=/tmp/halt HELIOS_RESULTS_DIR=/tmp/results"


@pytest.mark.parametrize(
    ("service", "code", "halts"),
    [
        ("svc-kasmvnc", "2", True),
        ("svc-nginx", "2", True),
        ("svc-kclient", "2", True),
        ("svc-pulseaudio", "2", True),
        ("svc-kasmvnc", "1", False),
        ("svc-kasmvnc", "256", False),
        ("svc-desktop", "2", False),
    ],
)
def test_configuration_error_stops_the_container_instead_of_looping(
    box: Box, service: str, code: str, halts: bool
) -> None:
    box.put("/tmp/halt", "#!/bin/sh\necho halted >/tmp/halted\n", mode="0755")
    box.ok("mkdir -p /tmp/results /run/helios && echo up >/run/helios/desktop-ready")
    result = box.sh(f"{STUB_ENV} {FINISH} {service} {code} 0")
    assert result.rc == 0, result.err
    assert (box.sh("test -e /tmp/halted").rc == 0) is halts
    if halts:
        assert box.ok("cat /tmp/results/exitcode").strip() == "2"
        assert result.err_lines == [
            f"[helios] {service} refused its configuration (see the line above);"
            " stopping the container"
        ]
    desktop_gone = box.sh("test -e /run/helios/desktop-ready").rc != 0
    assert desktop_gone is (service in {"svc-kasmvnc", "svc-desktop"})
