#!/bin/sh
# patchloop pre-install (Alpine): the server's system user. Idempotent.
addgroup -S patchloop 2>/dev/null
adduser -S -D -H -h /var/lib/patchloop/server -s /sbin/nologin -G patchloop -g 'patchloop server' patchloop 2>/dev/null
exit 0
