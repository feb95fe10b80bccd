# patchloop %pre: the server's system user, before the files it owns are unpacked. Idempotent.
getent group patchloop >/dev/null || groupadd -r patchloop
getent passwd patchloop >/dev/null ||
  useradd -r -g patchloop -d /var/lib/patchloop/server -M -s /sbin/nologin -c 'patchloop server' patchloop
exit 0
