# ~/.bashrc for the Helios desktop user (Rocky Linux 9).
# System-wide definitions first (RHEL keeps aliases and PS1 defaults in /etc/bashrc).
if [ -f /etc/bashrc ]; then
    # shellcheck source=/dev/null
    . /etc/bashrc
fi
case $- in
    *i*) ;;
    *) return ;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=5000
PS1='[\u@helios-rocky-9 \W]\$ '
alias ll='ls -alF'
