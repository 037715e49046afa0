#!/usr/bin/env bash
# dist/EdgeChat.app -> dist/EdgeChat-VERSION.dmg (drag to Applications). macOS only.
set -euo pipefail
DIST="$1"
VERSION="$2"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$DIST/EdgeChat.app" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "EdgeChat $VERSION" -srcfolder "$STAGE" -ov -format UDZO \
    "$DIST/EdgeChat-$VERSION.dmg"
