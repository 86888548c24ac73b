# A throwaway OpenSSH server on 127.0.0.1 for integration tests. Source it
# after tests/integration/lib.sh, then call start_sshd:
#
#   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/sshd.sh"
#   start_sshd
#   "$P2V" ct --to root@127.0.0.1:$SSHD_PORT --identity "$SSH_ID" \
#       --known-hosts "$SSH_KNOWN_HOSTS" \
#       --remote-import "$CTI receive --cache-dir $T/cache" ...
#
# The remote command runs through root's login shell on this machine, so
# name ct-import by its absolute path ($CTI) as above.
#
# start_sshd exports:
#   SSHD_PORT         the port it listens on
#   SSHD_HOSTKEY_PIN  SHA256:... of its host key, as `ssh-keygen -l` prints
#   SSH_ID            a client private key root accepts (public key: $SSH_ID.pub)
#   SSH_KNOWN_HOSTS   a known_hosts file that already has the host key
#   SSHD_DIR          its config, keys and log ($SSHD_DIR/log)
# restart_sshd [--new-hostkey] restarts it on the same port, optionally with a
# freshly generated host key (SSHD_HOSTKEY_PIN is updated; SSH_KNOWN_HOSTS
# keeps the old key, so it now records a changed key).
# make_password_user NAME PASSWORD creates (or resets) a local user who may
# log in with that password.

SSHD_DIR="$T/sshd"

# The port is free if nothing listens on it now; sshd failing to bind (a
# race with another test) is caught by start_sshd's retry.
_sshd_port_free() {
  ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

_sshd_write_config() {
  cat >"$SSHD_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $SSHD_DIR/ssh_host_ed25519_key
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PidFile $SSHD_DIR/sshd.pid
LogLevel VERBOSE
MaxStartups 50
MaxAuthTries 10
EOF
}

_sshd_hostkey() {
  rm -f "$SSHD_DIR/ssh_host_ed25519_key" "$SSHD_DIR/ssh_host_ed25519_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C test-sshd-host -f "$SSHD_DIR/ssh_host_ed25519_key"
  SSHD_HOSTKEY_PIN=$(ssh-keygen -lf "$SSHD_DIR/ssh_host_ed25519_key.pub" | awk '{print $2}')
  export SSHD_HOSTKEY_PIN
}

# Start sshd on $SSHD_PORT and wait until it answers; 0, or 1 if it died
# (e.g. the port was taken meanwhile).
_sshd_launch() {
  /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" >>"$SSHD_DIR/log" 2>&1 &
  SSHD_PID=$!
  local i
  for i in $(seq 1 100); do
    if ! kill -0 "$SSHD_PID" 2>/dev/null; then
      wait "$SSHD_PID" 2>/dev/null || true
      SSHD_PID=""
      return 1
    fi
    # The server's banner means it accepts connections.
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSHD_PORT && head -c 4 <&3" 2>/dev/null |
        grep -q '^SSH-'; then
      return 0
    fi
    sleep 0.1
  done
  cat "$SSHD_DIR/log" >&2
  fail "sshd did not start listening on port $SSHD_PORT"
}

stop_sshd() {
  if [ -n "${SSHD_PID:-}" ]; then
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=""
  fi
}

start_sshd() {
  [ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd (apt-get install openssh-server)"
  command -v ssh-keygen >/dev/null || skip "no ssh-keygen"
  [ "$(id -u)" -eq 0 ] || skip "sshd tests need root"
  mkdir -p "$SSHD_DIR" /run/sshd
  chmod 700 "$SSHD_DIR"
  _sshd_hostkey
  rm -f "$T/id_ed25519" "$T/id_ed25519.pub"
  ssh-keygen -q -t ed25519 -N '' -C test-client -f "$T/id_ed25519"
  cp "$T/id_ed25519.pub" "$SSHD_DIR/authorized_keys"
  SSH_ID="$T/id_ed25519"
  at_exit stop_sshd
  local tries=0
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le 20 ] || fail "no free port for sshd"
    SSHD_PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    _sshd_port_free "$SSHD_PORT" || continue
    _sshd_write_config
    _sshd_launch && break
  done
  SSH_KNOWN_HOSTS="$SSHD_DIR/known_hosts"
  printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
    "$(cut -d' ' -f1,2 "$SSHD_DIR/ssh_host_ed25519_key.pub")" >"$SSH_KNOWN_HOSTS"
  export SSHD_PORT SSHD_DIR SSH_ID SSH_KNOWN_HOSTS
}

restart_sshd() {
  stop_sshd
  [ "${1:-}" = --new-hostkey ] && _sshd_hostkey
  _sshd_launch || { cat "$SSHD_DIR/log" >&2; fail "sshd did not restart on port $SSHD_PORT"; }
}

make_password_user() {
  local name=$1 password=$2
  if ! id "$name" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$name"
    at_exit "userdel -r $name 2>/dev/null"
  fi
  echo "$name:$password" | chpasswd
}
