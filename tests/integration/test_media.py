"""Audio, microphone, GLX, VirtualGL and multi-monitor in each distro's running Helios container.

Everything from outside goes through nginx's published port with the test credentials (kclient's
socket.io for audio and microphone, the web client's websocket for the monitor layout); inside the
container commands run as the desktop user in the session's environment (session.py).
"""

import threading
import time

import socketio
from itsetup import CREDS, TIMEOUT, UID
from python_on_whales import DockerClient
from rfb import RfbSession, Screen
from session import (
    frequency,
    get_file,
    put_file,
    rms,
    samples,
    session_env,
    sine,
    user_run,
    wav,
)
from support.integration import Desktop
from testcontainers.core.wait_strategies import ExecWaitStrategy

TONE_HZ = 440.0
RATE = 44100
VGL_GLXINFO = "/opt/VirtualGL/bin/glxinfo"


def _audio_client(desktop: Desktop) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(
        desktop.url,
        socketio_path="/audio/socket.io",
        headers={"Authorization": CREDS.header()},
        transports=["websocket"],
        wait_timeout=15,
    )
    return client


def test_a_tone_played_in_the_session_reaches_the_browser_side(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    """paplay of a 440 Hz sine -> PulseAudio null sink -> kclient -> socket.io 'audio' events."""
    put_file(desktop, "/tmp/helios-tone.wav", wav(sine(TONE_HZ, 4.0, RATE, 2), RATE, 2))
    received: list[bytes] = []
    got_enough = threading.Event()

    client = _audio_client(desktop)

    @client.on("audio")
    def audio(data: bytes) -> None:
        received.append(bytes(data))
        if sum(len(c) for c in received) >= RATE * 4:  # 0.5 s of S16LE stereo
            got_enough.set()

    try:
        client.emit("open", "")
        time.sleep(1.0)  # kclient opens its record stream on the sink monitor
        env = session_env(docker_client, desktop)
        user_run(docker_client, desktop, ["paplay", "/tmp/helios-tone.wav"], env, detach=True)
        got_enough.wait(20)
    finally:
        client.disconnect()
    pcm = b"".join(received)
    assert pcm, "no audio reached the browser side (kclient sent no 'audio' event)"
    left = samples(pcm, channels=2)
    assert rms(left) > 2000, f"audio is (nearly) silent: rms {rms(left):.0f}"
    measured = frequency(left, RATE)
    assert abs(measured - TONE_HZ) < 0.1 * TONE_HZ, f"tone at {measured:.0f} Hz, sent {TONE_HZ}"


def test_microphone_bytes_reach_the_pulseaudio_source(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    """socket.io 'micdata' (Int16 mono, as kclient.js sends) -> mic FIFO -> default source."""
    env = session_env(docker_client, desktop)
    out = "/tmp/helios-mic.raw"
    record = (
        f"timeout 6 parec --raw --format=s16le --rate={RATE} --channels=1 "
        f"--device=@DEFAULT_SOURCE@ > {out}; true"
    )
    user_run(docker_client, desktop, ["sh", "-c", record], env, detach=True)
    time.sleep(1.0)
    client = _audio_client(desktop)
    tone = sine(TONE_HZ, 3.0, RATE, 1)
    chunk = 128 * 2 * 32  # the web client's worklet posts 128-sample buffers; send 32 at a time
    try:
        for start in range(0, len(tone), chunk):
            client.emit("micdata", tone[start : start + chunk])
            time.sleep(chunk / 2 / RATE)
    finally:
        client.disconnect()
    done = f"! pgrep -u {UID} -x parec"
    ExecWaitStrategy(["sh", "-c", done]).with_startup_timeout(30).wait_until_ready(
        desktop.container
    )
    recorded = samples(get_file(desktop, out))
    assert recorded, "parec recorded nothing from the default source"
    loud = [v for v in recorded if abs(v) > 1000]
    assert len(loud) > RATE // 2, (
        f"the microphone tone did not reach PulseAudio's source: {len(loud)} loud samples "
        f"of {len(recorded)}, rms {rms(recorded):.0f}"
    )


def test_glx_names_a_renderer_on_the_xvnc_display(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    env = session_env(docker_client, desktop)
    out = user_run(docker_client, desktop, [VGL_GLXINFO, "-B"], env)
    assert "display: :1" in out, out
    renderer = [line for line in out.splitlines() if "OpenGL renderer string:" in line]
    assert renderer and renderer[0].split(":", 1)[1].strip(), f"no GL renderer:\n{out}"


def test_vglrun_runs_a_gl_program_on_the_display(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    """vglrun renders glxspheres through VirtualGL's faker onto the Xvnc display.

    Without a GPU the 3D device is EGL's software device (`-d egl`, Mesa llvmpipe); with a
    passed-through render node the same command uses it. `+v` makes VirtualGL log its work.
    """
    env = session_env(docker_client, desktop)
    spheres = "/opt/VirtualGL/bin/glxspheres64 -f 30 -bt 0.5"
    script = f"timeout 120 vglrun +v -d egl {spheres} 2>&1"
    out = user_run(docker_client, desktop, ["sh", "-c", script], env)
    assert "[VGL] VirtualGL v" in out, f"vglrun did not interpose VirtualGL:\n{out}"
    assert "OpenGL Renderer:" in out and "frames/sec" in out, out


def _monitors(docker_client: DockerClient, desktop: Desktop) -> list[str]:
    env = session_env(docker_client, desktop)
    out = user_run(docker_client, desktop, ["xrandr", "--listmonitors"], env)
    return [line.split()[-1] for line in out.splitlines()[1:] if line.strip()]


def test_display_grows_to_two_monitors_as_the_web_client_asks(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    before = _monitors(docker_client, desktop)
    assert len(before) == 1, before
    layout = [Screen(0, 0, 1280, 720), Screen(1280, 0, 1024, 768)]
    with RfbSession(desktop.host, desktop.port, CREDS) as rfb:
        assert rfb.size[0] > 0
        rfb.request_screens(layout)
        deadline = time.monotonic() + TIMEOUT
        monitors = before
        while time.monotonic() < deadline:
            monitors = _monitors(docker_client, desktop)
            if len(monitors) == 2:
                break
            time.sleep(0.5)
    assert len(monitors) == 2, f"xrandr monitors after the two-screen request: {monitors}"
    env = session_env(docker_client, desktop)
    query = user_run(docker_client, desktop, ["xrandr", "--query"], env)
    assert "current 2304 x 768" in query, query
    connected = [line.split()[0] for line in query.splitlines() if " connected" in line]
    assert len(connected) >= 2, query
