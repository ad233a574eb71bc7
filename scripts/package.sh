#!/usr/bin/env bash
# Builds dist/portsyncd_<version>_<arch>.deb with dpkg-deb (no network, no
# packaging tool to fetch): the binary from scripts/build.sh, both systemd
# units, the kernel setting, the man page the binary writes from its own
# flags, the supervisord block for SONiC's swss container, and the
# maintainer scripts in packaging/debian. Reproducible: every timestamp is
# the commit's (SOURCE_DATE_EPOCH), owners are root.
#
# The Debian version is build.sh's with '-' turned into '+'
# (0.16.0-4-gabc1234 -> 0.16.0+4+gabc1234): a '-' would start a Debian
# revision, which a package built from upstream sources directly has none
# of. GOARCH=arm64 ./scripts/package.sh builds for another architecture.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dpkg-deb >/dev/null || { echo "package.sh: dpkg-deb not found (apt-get install dpkg)" >&2; exit 1; }

./scripts/build.sh >/dev/null
bin=dist/portsyncd
host_arch=$(go env GOHOSTARCH) arch=$(go env GOARCH)
# Go's names and Debian's agree for amd64, arm64, riscv64, ppc64le, s390x.
case $arch in
	arm) arch=armhf ;;
	386) arch=i386 ;;
esac
if [ "$(go env GOARCH)" = "$host_arch" ]; then
	version=$("$bin" --version | awk '{print $2}')
else
	# Cannot run a foreign binary: ask build.sh's logic through the host's.
	OUT=dist/.portsyncd-host GOARCH=$host_arch ./scripts/build.sh >/dev/null
	version=$(dist/.portsyncd-host --version | awk '{print $2}')
fi
debversion=${version//-/+}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
else
	: "${SOURCE_DATE_EPOCH:=$(stat -c %Y VERSION)}"
fi
export SOURCE_DATE_EPOCH

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/portsyncd
install -D -m 0755 "$bin" "$root/usr/bin/portsyncd"
install -D -m 0644 packaging/portsyncd.service "$root/lib/systemd/system/portsyncd.service"
install -D -m 0644 packaging/portsyncd@.service "$root/lib/systemd/system/portsyncd@.service"
install -D -m 0644 packaging/sysctl.d/50-portsyncd.conf "$root/etc/sysctl.d/50-portsyncd.conf"
install -D -m 0644 packaging/supervisord/portsyncd.conf "$doc/examples/supervisord/portsyncd.conf"
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/portsyncd"
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 docs/SONIC.md "$doc/SONIC.md"
mkdir -p "$root/usr/share/man/man8"
if [ "$(go env GOARCH)" = "$host_arch" ]; then
	"$bin" manpage > "$stage/portsyncd.8"
else
	dist/.portsyncd-host manpage > "$stage/portsyncd.8"
fi
gzip -9n < "$stage/portsyncd.8" > "$root/usr/share/man/man8/portsyncd.8.gz"
{
	echo "portsyncd ($debversion) unstable; urgency=medium"
	echo
	echo "  * Built from commit $("${bin}" --version 2>/dev/null | sed -n 's/.*commit \([^,]*\),.*/\1/p' || true)."
	echo
	echo " -- portsyncd maintainers <portsyncd@sonic-go.invalid>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz" "$root/usr/share/man/man8/portsyncd.8.gz"

mkdir -p "$root/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "packaging/debian/$s" "$root/DEBIAN/$s"
done
# Conffiles: what an admin may edit and an upgrade must not overwrite.
echo /etc/sysctl.d/50-portsyncd.conf > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	packaging/debian/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=dist/portsyncd_${debversion}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -f dist/.portsyncd-host
echo "$deb"
