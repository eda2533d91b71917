#!/usr/bin/env bash
# Font aliases so LibreOffice renders the GB/T 9704 fonts named in our report template with
# CJK fonts that Debian ships (docs/fonts/). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d docs/fonts ]; then
    for f in docs/fonts/*.conf; do
        [ -e "$f" ] || continue
        install -m 644 "$f" "/etc/fonts/conf.d/$(basename "$f")"
    done
fi
fc-cache -f >/dev/null 2>&1 || true
