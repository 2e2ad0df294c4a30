#!/usr/bin/env bash
# Installs everything conch needs to build, test and demo on Debian bookworm,
# and nothing that is already there. Safe to run any number of times: with
# everything present it only looks, and finishes in about a second.
#
#   bash tools/install-deps.sh
#
# Needs root (or sudo) only when a Debian package is missing. It also:
# - stops Debian's own etcd service if the etcd-server package started one
#   (conch's tests and demo run their own etcd on free loopback ports, and a
#   stray etcd on 127.0.0.1:2379 would answer conch's default endpoint);
# - does the same for Debian's prometheus and prometheus-node-exporter
#   services (ports 9090 and 9100): the tests start their own
#   prometheus, and a packaged one would only scrape and take ports;
# - installs buildifier from the npm package @bazel/buildifier into
#   $CONCH_NPM_PREFIX (default ~/.cache/conch-npm) and, as root, links it to
#   /usr/local/bin/buildifier unless another buildifier is already on PATH.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Everything comes from Debian bookworm; docs/build.md says why each is here.
PACKAGES=(
  bazel-bootstrap
  bazel-rules-java
  libgrpc++-dev
  protobuf-compiler-grpc
  libprotobuf-dev
  protobuf-compiler
  libabsl-dev
  libcli11-dev
  libgtest-dev
  libgmock-dev
  librapidcheck-dev
  etcd-server
  etcd-client
  tzdata
  clang-format
  clang-tidy
  pkg-config
  openssl
  procps
  curl
  python3
  help2man
  groff-base
  zsh
)

# conchd's HTTP libraries and the test-only prometheus and chromium, installed
# with --no-install-recommends: their Recommends would add a running node
# exporter (prometheus) and printing, desktop notification and power
# management stacks (chromium), none of which a headless test needs.
LEAN_PACKAGES=(
  prometheus-cpp-dev
  libcpp-httplib-dev
  prometheus
  chromium
)

# Commands the build, tests and scripts call, checked after installing.
COMMANDS=(
  bazel protoc grpc_cpp_plugin pkg-config etcd etcdctl
  clang-format clang-tidy openssl pgrep npm curl python3
  promtool prometheus chromium help2man groff zsh
)

etcd_server_was_installed=0
prometheus_was_installed=0

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    conch_die "root is needed to run '$*': run this script as root or install sudo"
  fi
}

package_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

# Prints the packages among the arguments that are not installed.
missing_of() {
  local p
  for p in "$@"; do
    if ! package_installed "$p"; then
      printf '%s\n' "$p"
    fi
  done
}

missing_packages() {
  missing_of "${PACKAGES[@]}"
  # Node.js and npm are on the machines already; Debian's npm is the fallback.
  if ! command -v npm >/dev/null 2>&1; then
    printf '%s\n' npm
  fi
}

apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 "$@"
}

install_packages() {
  local missing=() missing_lean=()
  mapfile -t missing < <(missing_packages)
  mapfile -t missing_lean < <(missing_of "${LEAN_PACKAGES[@]}")
  if [[ ${#missing[@]} -eq 0 && ${#missing_lean[@]} -eq 0 ]]; then
    conch_log "all $((${#PACKAGES[@]} + ${#LEAN_PACKAGES[@]})) Debian packages are installed"
    return 0
  fi
  apt_get update
  if [[ ${#missing[@]} -gt 0 ]]; then
    conch_log "installing missing packages: ${missing[*]}"
    apt_get install -y "${missing[@]}"
  fi
  if [[ ${#missing_lean[@]} -gt 0 ]]; then
    conch_log "installing missing packages without recommends: ${missing_lean[*]}"
    apt_get install -y --no-install-recommends "${missing_lean[@]}"
  fi
  local p
  for p in "${missing[@]}" "${missing_lean[@]}"; do
    if [[ "$p" == etcd-server ]]; then
      etcd_server_was_installed=1
    elif [[ "$p" == prometheus ]]; then
      prometheus_was_installed=1
    fi
  done
}

# PIDs of etcd processes run by the 'etcd' system user, i.e. Debian's service.
# Our own etcds (tests, demo) run as the invoking user and are never touched.
packaged_etcd_pids() {
  if getent passwd etcd >/dev/null 2>&1; then
    pgrep -x -u etcd etcd || true
  fi
}

stop_packaged_etcd() {
  local pids
  pids="$(packaged_etcd_pids)"
  if [[ -z "$pids" && "$etcd_server_was_installed" -eq 0 ]]; then
    return 0
  fi
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    # Booted with systemd: stop it now and keep it from starting at boot.
    as_root systemctl disable --now etcd.service >/dev/null 2>&1 || true
  else
    # No systemd (containers): the package's sysv script, then its rc links.
    if [[ -n "$pids" && -x /etc/init.d/etcd ]]; then
      as_root /etc/init.d/etcd stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then
      as_root update-rc.d etcd disable >/dev/null 2>&1 || true
    fi
  fi
  if [[ -z "$pids" ]]; then
    return 0
  fi
  # Whatever is still running as the etcd user gets SIGTERM, then SIGKILL.
  local i
  for i in $(seq 1 50); do
    [[ -z "$(packaged_etcd_pids)" ]] && break
    if [[ "$i" -eq 1 ]]; then
      as_root pkill -TERM -x -u etcd etcd || true
    elif [[ "$i" -eq 40 ]]; then
      as_root pkill -KILL -x -u etcd etcd || true
    fi
    sleep 0.1
  done
  if [[ -n "$(packaged_etcd_pids)" ]]; then
    conch_die "Debian's etcd service (user etcd) is still running; stop it by hand"
  fi
  conch_log "stopped and disabled Debian's etcd service (conch runs its own etcd)"
}

# PIDs of processes run by the 'prometheus' system user: Debian's prometheus
# and prometheus-node-exporter services. The prometheus servers that tests
# start run as the invoking user and are never touched.
packaged_prometheus_pids() {
  if getent passwd prometheus >/dev/null 2>&1; then
    pgrep -u prometheus || true
  fi
}

stop_packaged_prometheus() {
  local pids
  pids="$(packaged_prometheus_pids)"
  if [[ -z "$pids" && "$prometheus_was_installed" -eq 0 ]]; then
    return 0
  fi
  # The node exporter is only a Recommends, so it may be absent.
  local services=(prometheus) service
  if package_installed prometheus-node-exporter; then
    services+=(prometheus-node-exporter)
  fi
  for service in "${services[@]}"; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      as_root systemctl disable --now "${service}.service" >/dev/null 2>&1 || true
    else
      if [[ -n "$pids" && -x "/etc/init.d/${service}" ]]; then
        as_root "/etc/init.d/${service}" stop >/dev/null 2>&1 || true
      fi
      if command -v update-rc.d >/dev/null 2>&1; then
        as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
      fi
    fi
  done
  if [[ -z "$pids" ]]; then
    return 0
  fi
  local i
  for i in $(seq 1 50); do
    [[ -z "$(packaged_prometheus_pids)" ]] && break
    if [[ "$i" -eq 1 ]]; then
      as_root pkill -TERM -u prometheus || true
    elif [[ "$i" -eq 40 ]]; then
      as_root pkill -KILL -u prometheus || true
    fi
    sleep 0.1
  done
  if [[ -n "$(packaged_prometheus_pids)" ]]; then
    conch_die "Debian's prometheus services (user prometheus) are still running; stop them by hand"
  fi
  conch_log "stopped and disabled Debian's ${services[*]} service(s) (tests run their own prometheus)"
}

installed_buildifier_version() {
  local pkg_json
  pkg_json="$(conch_buildifier_pkg_dir)/package.json"
  if [[ -f "$pkg_json" ]]; then
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg_json" | head -n 1
  fi
}

install_buildifier() {
  if [[ "$(installed_buildifier_version)" != "$CONCH_BUILDIFIER_VERSION" ]]; then
    command -v npm >/dev/null 2>&1 || conch_die "npm is needed to install buildifier"
    conch_log "installing @bazel/buildifier@${CONCH_BUILDIFIER_VERSION} into ${CONCH_NPM_PREFIX}"
    mkdir -p "$CONCH_NPM_PREFIX"
    npm install --prefix "$CONCH_NPM_PREFIX" --no-audit --no-fund \
      --no-update-notifier --loglevel=error \
      "@bazel/buildifier@${CONCH_BUILDIFIER_VERSION}"
  fi
  local bin
  bin="$(conch_buildifier_npm_bin)"
  [[ -n "$bin" ]] || conch_die "no buildifier binary for $(uname -m) in $(conch_buildifier_pkg_dir)"
  "$bin" --version >/dev/null 2>&1 || conch_die "$bin does not run"
  conch_log "buildifier ${CONCH_BUILDIFIER_VERSION}: ${bin}"
  link_buildifier "$bin"
}

# As root, puts buildifier on PATH for people and git hooks, without ever
# replacing a buildifier that something else installed.
link_buildifier() {
  local bin="$1" link=/usr/local/bin/buildifier
  if [[ "$(id -u)" -ne 0 || ! -d /usr/local/bin ]]; then
    return 0
  fi
  if [[ -L "$link" && "$(readlink "$link")" == "${CONCH_NPM_PREFIX}/"* ]]; then
    [[ "$(readlink "$link")" == "$bin" ]] || ln -sfn "$bin" "$link"
  elif [[ ! -e "$link" ]] && ! command -v buildifier >/dev/null 2>&1; then
    ln -s "$bin" "$link"
    conch_log "linked ${link} -> ${bin}"
  fi
}

check_commands() {
  local c missing=()
  for c in "${COMMANDS[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    conch_die "still missing after install: ${missing[*]}"
  fi
}

main() {
  install_packages
  stop_packaged_etcd
  stop_packaged_prometheus
  install_buildifier
  check_commands
  conch_log "dependencies ready"
}

main "$@"
