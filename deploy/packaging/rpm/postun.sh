# patchloop %postun: after an upgrade ($1 >= 1) restarts a server that was running, as
# %systemd_postun_with_restart does; after an erase, reloads systemd. The state in
# /var/lib/patchloop stays (rpm has no purge): remove it by hand.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then
    systemctl try-restart patchloop-server.service >/dev/null 2>&1 || :
  fi
fi
exit 0
