# Sourced by fetch-xen.sh and fetch-linux.sh: shared helpers for pulling a
# Debian package into the reference cache without installing it.

# Cache dir: $VESTA_CACHE or build/ref under the repo root.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VESTA_CACHE:-$REPO_ROOT/build/ref}"
mkdir -p "$CACHE"

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

apt_update() {
  echo "fetch: apt-get update" >&2
  "${SUDO[@]}" apt-get update -qq
}

# apt_download PKG [VERSION]: leaves PKG_*.deb (or PKG_VERSION_*.deb) in $CACHE
# and prints its path.  A version pins the toolstack to the hypervisor's own.
# A kept machine may have stale package lists (the version they name is gone
# from the mirror), and a fresh one may have none: retry once after an update.
apt_download() {
  local pkg="$1" ver="${2:-}" deb pattern spec
  # .deb file names spell an epoch's colon as %3a.
  pattern="${pkg}_${ver:+${ver//:/%3a}_}*.deb"
  spec="$pkg${ver:+=$ver}"
  deb="$(ls "$CACHE"/$pattern 2>/dev/null | head -n1 || true)"
  if [ -n "$deb" ]; then echo "$deb"; return 0; fi
  # apt-get download writes into the current directory; as root it warns that
  # the _apt sandbox user cannot write there, which is harmless.
  if ! (cd "$CACHE" && apt-get download -q "$spec" >&2 2>/dev/null); then
    apt_update
    (cd "$CACHE" && apt-get download -q "$spec" >&2)
  fi
  deb="$(ls "$CACHE"/$pattern | head -n1)"
  echo "$deb"
}
