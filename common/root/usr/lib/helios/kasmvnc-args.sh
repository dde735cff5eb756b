#!/usr/bin/env bash
# kasmvnc-args [--check]: print the Xvnc command line (one argument per line) built from the fixed
# Helios settings, /etc/kasm/kasmvnc.conf and the GPU environment (DRINODE, DISABLE_DRI).
# A bad line in the settings file stops with "<file>:<line>: <problem>" and exit status 2.
# --check validates the same input and prints nothing when it is valid.
# Fixed: websocket on 127.0.0.1:6901 only, behind basic auth with the per-boot credential in
# HELIOS_XVNC_PASSWD (only nginx knows the password); no RFB port (the websocket listener
# replaces it), no X11 over TCP or the abstract socket (only /tmp/.X11-unix/X1).
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

CONF="${HELIOS_KASMVNC_CONF:-/etc/kasm/kasmvnc.conf}"
WWW="${HELIOS_KASMVNC_WWW:-/usr/local/share/kasmvnc/www}"
DEV_ROOT="${HELIOS_DEV_ROOT:-/dev}"

# Supported settings and their value types.
declare -A TYPES=(
    [PublicIP]=ip [udpPort]=port [FrameRate]=int:1:240
    [DynamicQualityMin]=int:0:9 [DynamicQualityMax]=int:0:9 [RectThreads]=int:0:64
    [BlacklistThreshold]=int:0:1000000 [DLP_ClipDelay]=int:0:60000 [MaxVideoResolution]=size
    [PreferBandwidth]=bool [FreeKeyMappings]=bool [AlwaysShared]=bool
    [geometry]=size [depth]=depth
    [videoCodec]=codec [VideoQualityCRFCQP]=int:0:63 [GroupOfPicture]=int:0:100
    [DetectScrolling]=bool [DetectHorizontal]=bool [ScrollDetectLimit]=int:0:100
    [IdleTimeout]=int:0:604800
)
# Video mode (KasmVNC >= 1.5): off, or the codec Xvnc streams to the browser's WebCodecs decoder.
CODECS="off auto h264 h265 av1 h264_vaapi h265_vaapi av1_vaapi"
# The ffmpeg sonames this Xvnc was built against (common/build/kasm.sh), one per line.
SONAMES="${HELIOS_FFMPEG_SONAMES:-/usr/local/share/kasmvnc/ffmpeg-sonames}"
FIXED=" interface websocketPort disableBasicAuth DisableBasicAuth SecurityTypes httpd hw3d drinode "
FIXED+=" rfbport auth KasmPasswordFile rfbunixpath noWebsocket nolisten listen "

bad() {
    invalid "${CONF}:$1: $2"
}

check_value() {
    local line="$1" name="$2" value="$3" type="${TYPES[$2]}" lo hi
    case "${type}" in
        ip)
            [[ "${value}" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ || "${value}" =~ ^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$ ]] ||
                bad "${line}" "${name} must be an IPv4 or IPv6 address, got '${value}'"
            ;;
        port) type=int:0:65535 ;&
        int:*)
            IFS=: read -r _ lo hi <<<"${type}"
            if [[ ! "${value}" =~ ^(0|[1-9][0-9]{0,6})$ ]] || ((value < lo || value > hi)); then
                bad "${line}" "${name} must be an integer from ${lo} to ${hi}, got '${value}'"
            fi
            ;;
        bool)
            [[ "${value}" =~ ^(true|false)$ ]] || bad "${line}" "${name} must be true or false, got '${value}'"
            ;;
        size)
            [[ "${value}" =~ ^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$ ]] ||
                bad "${line}" "${name} must be WIDTHxHEIGHT (e.g. 1920x1080), got '${value}'"
            ;;
        depth)
            [[ "${value}" =~ ^(16|24|32)$ ]] || bad "${line}" "${name} must be 16, 24 or 32, got '${value}'"
            ;;
        codec)
            [[ " ${CODECS} " == *" ${value} "* ]] || bad "${line}" "${name} must be one of: ${CODECS}; got '${value}'"
            ;;
    esac
}

# emit_setting NAME VALUE: append the Xvnc argument(s) for one setting to ARGS.
emit_setting() {
    local name="$1" value="$2"
    case "${TYPES[${name}]}" in
        bool) [[ "${value}" == true ]] && value=1 || value=0 ;;
    esac
    case "${name}" in
        videoCodec) ;; # video_args decides (VIDEO_CODEC may override it)
        geometry | depth) ARGS+=("-${name}" "${value}") ;;
        *) ARGS+=("-${name}=${value}") ;;
    esac
}

# read_conf: validate the settings file; fills SEEN (name -> line), VALUES and ARGS.
read_conf() {
    local raw line=0 name value extra
    declare -gA SEEN=() VALUES=()
    [[ -r "${CONF}" ]] || invalid "${CONF}: cannot read the KasmVNC settings file"
    while IFS= read -r raw || [[ -n "${raw}" ]]; do
        line=$((line + 1))
        raw="${raw%$'\r'}"
        [[ "${raw}" =~ ^[[:space:]]*(#.*)?$ ]] && continue
        read -r name value extra <<<"${raw}"
        if [[ " ${FIXED} " == *" ${name} "* ]]; then
            bad "${line}" "${name} is fixed by Helios and cannot be set here"
        fi
        [[ -n "${TYPES[${name}]+set}" ]] ||
            bad "${line}" "unknown setting '${name}' (supported: $(printf '%s\n' "${!TYPES[@]}" | sort | paste -sd' '))"
        [[ -n "${value}" ]] || bad "${line}" "${name} needs a value"
        [[ -z "${extra}" ]] || bad "${line}" "${name} takes exactly one value, got '${value} ${extra}'"
        [[ -z "${SEEN[${name}]+set}" ]] || bad "${line}" "${name} is already set on line ${SEEN[${name}]}"
        check_value "${line}" "${name}" "${value}"
        SEEN[${name}]="${line}"
        VALUES[${name}]="${value}"
        emit_setting "${name}" "${value}"
    done <"${CONF}"
}

# A render node for -hw3d: DRINODE if set, else the first /dev/dri/renderD*.
dri_args() {
    local node="${DRINODE:-}"
    if is_true DISABLE_DRI "${DISABLE_DRI:-}"; then
        note "DISABLE_DRI is set: no DRI3 acceleration"
        return 0
    fi
    if [[ -z "${node}" ]]; then
        for node in "${DEV_ROOT}"/dri/renderD*; do
            [[ -c "${node}" ]] && break
            node=""
        done
    fi
    if [[ -z "${node}" ]]; then
        return 0
    fi
    [[ -c "${node}" ]] || invalid "DRINODE must be a render node character device, '${node}' is not"
    if command -v nvidia-smi >/dev/null 2>&1; then
        note "NVIDIA driver detected: no -hw3d (use vglrun or Zink); set DISABLE_DRI=true to silence"
        return 0
    fi
    printf -- '-hw3d\n-drinode\n%s\n' "${node}"
}

# The codec for video mode: VIDEO_CODEC if set, else the settings file's videoCodec, else off.
video_codec() {
    local codec="${VIDEO_CODEC:-}"
    if [[ -n "${codec}" ]]; then
        [[ " ${CODECS} " == *" ${codec} "* ]] ||
            invalid "VIDEO_CODEC must be one of: ${CODECS}; got '${codec}'"
    else
        codec="${VALUES[videoCodec]:-}"
    fi
    printf '%s\n' "${codec:-off}"
}

# video_args CODEC DRI: -videoCodec when video mode is on, after checking that this image has the
# ffmpeg libraries Xvnc loads and, for a _vaapi codec, that a render node is passed to Xvnc.
video_args() {
    local codec="$1" dri="$2" so known missing=()
    [[ "${codec}" != off ]] || return 0
    [[ -r "${SONAMES}" ]] || invalid "VIDEO_CODEC=${codec}: this Xvnc has no video mode (${SONAMES} is missing)"
    # The sonames the dynamic loader's cache knows (what dlopen() by soname finds).
    known="$(ldconfig -p | awk 'NR > 1 { print $1 }')"
    while IFS= read -r so; do
        [[ -n "${so}" ]] || continue
        grep -qxF -- "${so}" <<<"${known}" || missing+=("${so}")
    done <"${SONAMES}"
    if ((${#missing[@]})); then
        invalid "VIDEO_CODEC=${codec} needs ${missing[*]}, not in this image: install the distro's packages for them in a FROM helios image (README.md, Video mode)"
    fi
    if [[ "${codec}" == *_vaapi && "${dri}" != *-drinode* ]]; then
        invalid "VIDEO_CODEC=${codec} needs a GPU render node: pass one (--device /dev/dri/renderD128) or set DRINODE, and leave DISABLE_DRI unset"
    fi
    printf -- '-videoCodec=%s\n' "${codec}"
}

# note MESSAGE: an informational log line (silent with --check).
note() {
    [[ "${CHECK}" == true ]] || log "$@"
}

main() {
    local dri codec video
    local -a ARGS=()
    CHECK=false
    case "${1:-}" in
        --check) CHECK=true ;;
        '') ;;
        *) die "usage: kasmvnc-args.sh [--check]" ;;
    esac
    read_conf
    dri="$(dri_args)"
    # Separate assignments: a failure inside a nested $(...) argument would be lost.
    codec="$(video_codec)"
    video="$(video_args "${codec}" "${dri}")"
    [[ "${CHECK}" == false ]] || return 0
    printf -- ':%s\n' "${HELIOS_DISPLAY_NUM}"
    printf -- '%s\n' -interface 127.0.0.1 -websocketPort 6901 \
        -KasmPasswordFile "${HELIOS_XVNC_PASSWD}" -SecurityTypes None -httpd "${WWW}" -sslOnly=0 \
        -nolisten tcp -nolisten local
    ((${#ARGS[@]} == 0)) || printf '%s\n' "${ARGS[@]}"
    if [[ -z "${VALUES[PublicIP]+set}" ]]; then
        # Without a public IP Xvnc asks STUN servers and exits when offline.
        printf -- '-PublicIP=127.0.0.1\n'
    fi
    [[ -z "${dri}" ]] || printf '%s\n' "${dri}"
    [[ -z "${video}" ]] || printf '%s\n' "${video}"
}

main "$@"
