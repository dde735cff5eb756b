"""Container tier: the Xvnc command line built from /etc/kasm/kasmvnc.conf and the GPU env."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient
from runtime.harness import Box

ARGS = "/usr/lib/helios/kasmvnc-args.sh"
FIXED = [
    ":1",
    "-interface",
    "127.0.0.1",
    "-websocketPort",
    "6901",
    "-KasmPasswordFile",
    "/run/helios/xvnc/kasmpasswd",
    "-SecurityTypes",
    "None",
    "-httpd",
    "/usr/local/share/kasmvnc/www",
    "-sslOnly=0",
    "-nolisten",
    "tcp",
    "-nolisten",
    "local",
]


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        yield container


def xvnc_args(box: Box, conf: str | None = None, **variables: str) -> list[str]:
    if conf is not None:
        box.put("/tmp/kasmvnc.conf", conf)
        variables["HELIOS_KASMVNC_CONF"] = "/tmp/kasmvnc.conf"
    prefix = " ".join(f"{key}={value}" for key, value in variables.items())
    return box.ok(f"env {prefix} {ARGS}").splitlines()


def test_shipped_conf_starts_offline_on_loopback(box: Box) -> None:
    args = xvnc_args(box)
    assert args[: len(FIXED)] == FIXED
    # Xvnc's websocket port demands the per-boot credential (never -disableBasicAuth) and no
    # other listener is asked for: no -rfbport/-rfbunixpath, no X11 over TCP.
    assert not {"-disableBasicAuth", "-DisableBasicAuth", "-rfbport", "-listen"} & set(args)
    settings = args[len(FIXED) :]
    assert settings == [
        "-PublicIP=127.0.0.1",
        "-FrameRate=60",
        "-DynamicQualityMin=4",
        "-DynamicQualityMax=7",
        "-PreferBandwidth=1",
        "-FreeKeyMappings=1",
        "-BlacklistThreshold=0",
        "-DLP_ClipDelay=0",
        "-AlwaysShared=1",
        "-RectThreads=0",
        "-geometry",
        "1920x1080",
        "-depth",
        "24",
    ]
    assert "-hw3d" not in args  # no /dev/dri in this container


def test_public_ip_defaults_to_loopback_and_values_are_converted(box: Box) -> None:
    args = xvnc_args(box, "# comment\n\n  FrameRate 30\r\nAlwaysShared false\nudpPort 0\n")
    assert args[len(FIXED) :] == [
        "-FrameRate=30",
        "-AlwaysShared=0",
        "-udpPort=0",
        "-PublicIP=127.0.0.1",
    ]
    assert "-PublicIP=10.1.2.3" in xvnc_args(box, "PublicIP 10.1.2.3\n")


def test_render_node_enables_dri3_unless_disabled(box: Box) -> None:
    box.ok("mkdir -p /dev/dri && mknod /dev/dri/renderD128 c 226 128")
    box.ok("mknod /dev/dri/renderD129 c 226 129")
    assert xvnc_args(box)[-3:] == ["-hw3d", "-drinode", "/dev/dri/renderD128"]
    assert xvnc_args(box, DRINODE="/dev/dri/renderD129")[-3:] == [
        "-hw3d",
        "-drinode",
        "/dev/dri/renderD129",
    ]
    assert "-hw3d" not in xvnc_args(box, DISABLE_DRI="true")
    bad = box.sh(f"DRINODE=/dev/null/x {ARGS}")
    assert bad.rc == 2
    assert bad.err_lines == [
        "[helios] DRINODE must be a render node character device, '/dev/null/x' is not"
    ]


BAD_CONF = [
    ("Foo 1\n", 1, "unknown setting 'Foo' (supported: "),
    ("\n# x\nwebsocketPort 7000\n", 3, "websocketPort is fixed by Helios"),
    ("interface 0.0.0.0\n", 1, "interface is fixed by Helios"),
    ("FrameRate fast\n", 1, "FrameRate must be an integer from 1 to 240, got 'fast'"),
    ("FrameRate 0\n", 1, "FrameRate must be an integer from 1 to 240, got '0'"),
    ("FrameRate 30\nFrameRate 60\n", 2, "FrameRate is already set on line 1"),
    ("PreferBandwidth yes\n", 1, "PreferBandwidth must be true or false, got 'yes'"),
    ("geometry 1920x1080 extra\n", 1, "geometry takes exactly one value"),
    ("geometry big\n", 1, "geometry must be WIDTHxHEIGHT"),
    ("depth\n", 1, "depth needs a value"),
    ("depth 8\n", 1, "depth must be 16, 24 or 32, got '8'"),
    ("PublicIP auto\n", 1, "PublicIP must be an IPv4 or IPv6 address, got 'auto'"),
    ("udpPort 70000\n", 1, "udpPort must be an integer from 0 to 65535, got '70000'"),
    ("KasmPasswordFile /tmp/x\n", 1, "KasmPasswordFile is fixed by Helios"),
    ("DisableBasicAuth 1\n", 1, "DisableBasicAuth is fixed by Helios"),
    ("rfbport 5901\n", 1, "rfbport is fixed by Helios"),
    ("videoCodec h266\n", 1, "videoCodec must be one of: off auto h264 h265 av1 h264_vaapi"),
    ("videoCodec H264\n", 1, "videoCodec must be one of: off auto h264"),
    ("VideoQualityCRFCQP 64\n", 1, "VideoQualityCRFCQP must be an integer from 0 to 63"),
    ("GroupOfPicture -1\n", 1, "GroupOfPicture must be an integer from 0 to 100, got '-1'"),
    ("IdleTimeout 604801\n", 1, "IdleTimeout must be an integer from 0 to 604800"),
    ("DetectScrolling on\n", 1, "DetectScrolling must be true or false, got 'on'"),
    ("ScrollDetectLimit 101\n", 1, "ScrollDetectLimit must be an integer from 0 to 100"),
    ("drinode /dev/dri/card0\n", 1, "drinode is fixed by Helios"),
]


@pytest.mark.parametrize(("conf", "line", "message"), BAD_CONF, ids=[c[2][:24] for c in BAD_CONF])
def test_bad_conf_line_is_rejected_with_its_location(
    box: Box, conf: str, line: int, message: str
) -> None:
    box.put("/tmp/kasmvnc.conf", conf)
    for check in ("", " --check"):
        result = box.sh(f"HELIOS_KASMVNC_CONF=/tmp/kasmvnc.conf {ARGS}{check}")
        assert result.rc == 2
        assert len(result.err_lines) == 1
        assert result.err_lines[0].startswith(f"[helios] /tmp/kasmvnc.conf:{line}: {message}")
        assert result.out == ""


def test_check_validates_the_gpu_environment_and_is_silent_when_valid(box: Box) -> None:
    box.ok("mkdir -p /dev/dri && mknod /dev/dri/renderD128 c 226 128")
    for env in ("", "DISABLE_DRI=true", "DRINODE=/dev/dri/renderD128", "DISABLE_DRI=off"):
        result = box.sh(f"env {env} {ARGS} --check")
        assert (result.rc, result.out, result.err) == (0, "", ""), env
    for env, message in (
        ("DRINODE=/dev/null/x", "DRINODE must be a render node character device"),
        ("DRINODE=/tmp", "DRINODE must be a render node character device"),
        ("DISABLE_DRI=maybe", "DISABLE_DRI must be true or false"),
    ):
        result = box.sh(f"env {env} {ARGS} --check")
        assert result.rc == 2, env
        assert len(result.err_lines) == 1 and result.err_lines[0].startswith(f"[helios] {message}")
        assert result.out == ""
    unreadable = box.sh(f"HELIOS_KASMVNC_CONF=/nope {ARGS} --check")
    assert (unreadable.rc, unreadable.err_lines) == (
        2,
        ["[helios] /nope: cannot read the KasmVNC settings file"],
    )


def test_kasmvnc_15_settings_become_xvnc_arguments(box: Box) -> None:
    conf = (
        "IdleTimeout 3600\nDetectScrolling true\nDetectHorizontal false\nScrollDetectLimit 40\n"
        "VideoQualityCRFCQP 23\nGroupOfPicture 48\nvideoCodec off\n"
    )
    args = xvnc_args(box, conf)
    assert args[len(FIXED) :] == [
        "-IdleTimeout=3600",
        "-DetectScrolling=1",
        "-DetectHorizontal=0",
        "-ScrollDetectLimit=40",
        "-VideoQualityCRFCQP=23",
        "-GroupOfPicture=48",
        "-PublicIP=127.0.0.1",
    ]
    assert not [a for a in args if a.startswith("-videoCodec")]


SONAMES = "/tmp/ffmpeg-sonames"


def video(box: Box, env: str, conf: str = "") -> tuple[int, list[str], list[str]]:
    box.put("/tmp/kasmvnc.conf", conf)
    result = box.sh(
        f"env HELIOS_KASMVNC_CONF=/tmp/kasmvnc.conf HELIOS_FFMPEG_SONAMES={SONAMES} {env} {ARGS}"
    )
    return result.rc, result.out.splitlines(), result.err_lines


def test_video_mode_names_the_missing_ffmpeg_libraries_and_changes_nothing(box: Box) -> None:
    # Sonames of an ffmpeg this container does not have (next to one it has: libc's).
    box.put(SONAMES, "libavformat.so.99\nlibc.so.6\nlibavutil.so.97\nlibavcodec.so.99\n")
    for env, conf in (("VIDEO_CODEC=h264", ""), ("", "videoCodec av1\n")):
        rc, out, err = video(box, env, conf)
        codec = "h264" if env else "av1"
        assert (rc, out) == (2, []), (env, conf)
        assert err == [
            f"[helios] VIDEO_CODEC={codec} needs libavformat.so.99 libavutil.so.97 "
            "libavcodec.so.99, not in this image: install the distro's packages "
            "for them in a FROM helios image (README.md, Video mode)"
        ]
    box.ok(f"rm -f {SONAMES}")
    rc, out, err = video(box, "VIDEO_CODEC=h264")
    assert (rc, out) == (2, [])
    assert err == [f"[helios] VIDEO_CODEC=h264: this Xvnc has no video mode ({SONAMES} is missing)"]


def test_video_codec_env_is_validated_and_wins_over_the_file(box: Box) -> None:
    # libc's soname stands in for ffmpeg's: present in every image, found through ldconfig.
    box.put(SONAMES, "libc.so.6\n")
    rc, out, err = video(box, "VIDEO_CODEC=h265", "videoCodec av1\n")
    assert (rc, err, out[-1]) == (0, [], "-videoCodec=h265")
    rc, out, err = video(box, "", "videoCodec av1\n")
    assert (rc, err, out[-1]) == (0, [], "-videoCodec=av1")
    rc, out, err = video(box, "VIDEO_CODEC=off", "videoCodec av1\n")
    assert rc == 0 and not [a for a in out if a.startswith("-videoCodec")]
    for bad in ("x264", "H264", "h264;id", "auto auto"):
        rc, out, err = video(box, f"VIDEO_CODEC='{bad}'")
        assert (rc, out) == (2, []), bad
        assert err == [
            "[helios] VIDEO_CODEC must be one of: off auto h264 h265 av1 h264_vaapi h265_vaapi "
            f"av1_vaapi; got '{bad}'"
        ]


def test_vaapi_video_needs_a_render_node(box: Box) -> None:
    box.put(SONAMES, "libc.so.6\n")
    message = (
        "[helios] VIDEO_CODEC=h264_vaapi needs a GPU render node: pass one "
        "(--device /dev/dri/renderD128) or set DRINODE, and leave DISABLE_DRI unset"
    )
    assert video(box, "VIDEO_CODEC=h264_vaapi") == (2, [], [message])
    box.ok("mkdir -p /dev/dri && mknod /dev/dri/renderD128 c 226 128")
    rc, out, err = video(box, "VIDEO_CODEC=h264_vaapi")
    assert (rc, err) == (0, [])
    assert out[-4:] == ["-hw3d", "-drinode", "/dev/dri/renderD128", "-videoCodec=h264_vaapi"]
    rc, out, err = video(box, "VIDEO_CODEC=h264_vaapi DISABLE_DRI=true")
    assert (rc, out, err[-1]) == (2, [], message)
