#!/usr/bin/env bash
# Renders the HTML part of an email in headless Chromium to a PNG, so a person can see the digest as a mail client
# would show it. Without an .eml it runs the demo first, which writes the organization's email beside its workbook.
#
#   scripts/render-email.sh [EMAIL.eml] [OUT.png] [WIDTH] [HEIGHT]
#
# Needs chromium (Debian: apt-get install chromium) and python3 (to take the HTML part out of the MIME message).
# CI does not run it.
set -euo pipefail

eml=${1:-}
png=${2:-email.png}
width=${3:-1200}
height=${4:-2400} # the screenshot is the window: a long digest needs a taller one
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -z "$eml" ]]; then
	eml=$work/audit-report.eml
	go run ./cmd/audit demo -out "$work/audit-report.xlsx" >/dev/null
fi
[[ -f "$eml" ]] || { echo "render-email: no such file: $eml" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || { echo "render-email: chromium not found (apt-get install chromium)" >&2; exit 2; }

# The HTML part, decoded from quoted-printable, as a file of its own.
python3 - "$eml" "$work/email.html" <<'PY'
import email, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
part = msg.get_body(preferencelist=("html",))
if part is None:
    sys.exit("render-email: the message has no HTML part")
open(sys.argv[2], "w", encoding="utf-8").write(part.get_content())
PY

# A fresh profile, no network of its own, no first-run or background work: only the page.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$work/profile" \
	--window-size="$width,$height" --screenshot="$(realpath -m "$png")" "file://$work/email.html" >/dev/null 2>&1
echo "render-email: $png (${width}x$height) from $eml"
