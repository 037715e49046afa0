#!/usr/bin/env bash
# dist/edgechat/ -> a .tar.gz of the bundle and a .deb that installs it under /opt/edgechat.
# User data stays in ~/.local/share/EdgeChat: removing or upgrading the package never touches it.
set -euo pipefail
DIST="$1"
VERSION="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"

tar -C "$DIST" -czf "$DIST/edgechat-$VERSION-linux-$(uname -m).tar.gz" edgechat

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
mkdir -p "$ROOTFS/DEBIAN" "$ROOTFS/opt" "$ROOTFS/usr/bin" "$ROOTFS/usr/share/applications" \
    "$ROOTFS/usr/share/icons/hicolor/256x256/apps"
cp -a "$DIST/edgechat" "$ROOTFS/opt/edgechat"
ln -s /opt/edgechat/edgechat "$ROOTFS/usr/bin/edgechat"
cp "$HERE/edgechat.desktop" "$ROOTFS/usr/share/applications/edgechat.desktop"
cp "$HERE/../../resources/edgechat.png" "$ROOTFS/usr/share/icons/hicolor/256x256/apps/edgechat.png"
SIZE_KB="$(du -sk "$ROOTFS" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE_KB/" \
    "$HERE/control.in" > "$ROOTFS/DEBIAN/control"
install -m 0755 "$HERE/postinst" "$ROOTFS/DEBIAN/postinst"
install -m 0755 "$HERE/postrm" "$ROOTFS/DEBIAN/postrm"
dpkg-deb --root-owner-group --build "$ROOTFS" "$DIST/edgechat_${VERSION}_${ARCH}.deb" >/dev/null
