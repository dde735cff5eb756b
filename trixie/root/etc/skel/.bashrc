# ~/.bashrc for the Helios desktop user (Debian 13 (trixie)).
# Non-interactive shells stop here.
case $- in
    *i*) ;;
    *) return ;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=5000
HISTFILESIZE=10000
shopt -s histappend checkwinsize

PS1='\[\e[1;32m\]\u@helios-trixie\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '

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
