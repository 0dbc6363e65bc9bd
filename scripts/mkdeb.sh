#!/usr/bin/env bash
# Builds the Debian package of Vesta with dpkg-deb (`make deb` calls it).
#
# usage: mkdeb.sh VERSION IMAGE OUT.deb
#   VERSION  the package version; the hypervisor IMAGE must have been built with the same VERSION (it reports it)
#   IMAGE    build/vesta.elf; installed gzip-compressed as /boot/vesta-VERSION.gz, as Debian ships Xen
#            (GRUB's multiboot2 loader unpacks it)
# The package is native (Vesta's packaging lives in its own repository), so it carries changelog.gz, not
# changelog.Debian.gz. Its files are packaging/debian/*; docs/debian.md becomes README.Debian. When VERSION is not
# the newest entry of packaging/debian/changelog (a local or test build), a "local build" entry is put on top
# of the shipped changelog, as `dch --local` would. Every timestamp is the changelog's date
# (SOURCE_DATE_EPOCH), owners are root:root, so the same inputs give the same .deb.
set -euo pipefail

[ $# -eq 3 ] || { sed -n '4,7p' "$0" >&2; exit 2; }
version="$1" image="$2" out="$3"
here="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$here/packaging/debian"

dpkg --validate-version "$version" || exit 1
case "$version" in
  *-*) echo "mkdeb: $version has a Debian revision, but vesta is a native package" >&2; exit 1 ;;
esac
[ -f "$image" ] || { echo "mkdeb: no image $image" >&2; exit 1; }
# The hypervisor reports its version (boot banner, XENVER_changeset "vesta VERSION"): it must be this one.
if ! strings -n 4 "$image" | grep -xF "vesta $version" >/dev/null; then
  echo "mkdeb: $image does not report version $version (rebuild it with make VERSION=$version)" >&2
  exit 1
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/vesta-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
doc="$root/usr/share/doc/vesta"

# The changelog, with a local entry on top when this version is not the newest shipped one.
changelog="$stage/changelog"
top="$(dpkg-parsechangelog -l "$pkg/changelog" -SVersion)"
if [ "$top" = "$version" ]; then
  cp "$pkg/changelog" "$changelog"
else
  dpkg --compare-versions "$version" gt "$top" ||
    { echo "mkdeb: $version is older than the changelog's newest entry $top" >&2; exit 1; }
  maint="$(sed -n 's/^Maintainer: //p' "$pkg/control")"
  rev="$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
  {
    echo "vesta ($version) UNRELEASED; urgency=medium"
    echo
    echo "  * Local build from git $rev."
    echo "    The changes since $top are in the git log."
    echo
    echo " -- $maint  $(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
    echo
    cat "$pkg/changelog"
  } > "$changelog"
fi
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$changelog" -STimestamp)}"

install -d -m 755 "$root/boot" "$root/etc/grub.d" "$root/etc/default/grub.d" "$doc"
gzip -9n < "$image" > "$root/boot/vesta-$version.gz"
chmod 644 "$root/boot/vesta-$version.gz"
install -m 755 "$pkg/20_linux_vesta" "$root/etc/grub.d/20_linux_vesta"
install -m 644 "$pkg/vesta.cfg" "$root/etc/default/grub.d/vesta.cfg"
install -m 644 "$pkg/copyright" "$doc/copyright"
install -m 644 "$here/docs/debian.md" "$doc/README.Debian"
gzip -9n < "$changelog" > "$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

install -d -m 755 "$root/DEBIAN"
install -m 755 "$pkg/postinst" "$pkg/postrm" "$root/DEBIAN/"
install -m 644 "$pkg/conffiles" "$root/DEBIAN/conffiles"
# md5sums of every file but the conffiles (dpkg keeps their sums itself), paths relative to /.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
  grep -vxF -f <(sed 's,^/,,' DEBIAN/conffiles) | xargs -d '\n' md5sum) > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"
# Installed-Size as dpkg-gencontrol counts it: KiB of each file rounded up, plus one per directory or link.
size="$(cd "$root" && find . -path ./DEBIAN -prune -o ! -path . -printf '%y %s\n' |
  awk '$1 == "f" { kib += int(($2 + 1023) / 1024) } $1 != "f" { kib += 1 } END { print kib }')"
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" "$pkg/control" > "$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control"

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
