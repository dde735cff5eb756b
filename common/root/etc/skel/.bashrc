# ~/.bashrc for the Helios desktop user (every distro: the name in the prompt is read from
# /etc/os-release). Non-interactive shells stop here.
case $- in
    *i*) ;;
    *) return ;;
esac

# RHEL keeps its system-wide aliases and defaults in /etc/bashrc (Debian's bash reads
# /etc/bash.bashrc itself).
if [ -f /etc/bashrc ]; then
    # shellcheck source=/dev/null
    . /etc/bashrc
fi

HISTCONTROL=ignoreboth
HISTSIZE=5000
HISTFILESIZE=10000
shopt -s histappend checkwinsize

# bookworm, trixie, noble, jammy, kali-rolling; sid (Debian without a VERSION_ID); rocky-9.
helios_name=$(
    # shellcheck source=/dev/null
    . /etc/os-release
    if [ -z "${VERSION_ID:-}" ] && [ "${ID:-}" = debian ]; then
        echo sid
    elif [ -n "${VERSION_CODENAME:-}" ]; then
        echo "$VERSION_CODENAME"
    else
        echo "${ID:-linux}-${VERSION_ID%%.*}"
    fi
)
PS1='\[\e[1;32m\]\u@helios-'"${helios_name}"'\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
unset helios_name

if [ -x /usr/bin/dircolors ]; then
    eval "$(dircolors -b)"
    alias ls='ls --color=auto'
    alias grep='grep --color=auto'
fi
alias ll='ls -alF'

if [ -f /usr/share/bash-completion/bash_completion ]; then
    # shellcheck source=/dev/null
    . /usr/share/bash-completion/bash_completion
fi
