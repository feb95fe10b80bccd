# patchloop %preun: on erase ($1 = 0), stops and disables the units, as %systemd_preun does.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl --no-reload disable --now patchloop-server.service patchloop-agent.timer \
    patchloop-agent-flush.timer >/dev/null 2>&1 || :
fi
exit 0
