#!/bin/sh
# patchloop post-install (Alpine): the owners and modes of the state directories and of the
# server configuration. Idempotent; starts nothing.
chown patchloop:patchloop /var/lib/patchloop/server
chmod 0700 /var/lib/patchloop/server /var/lib/patchloop/agent
[ -f /etc/patchloop/server.yaml ] && chown root:patchloop /etc/patchloop/server.yaml && chmod 0640 /etc/patchloop/server.yaml
exit 0
