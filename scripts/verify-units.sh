#!/usr/bin/env bash
# systemd-analyze verify on deploy/systemd/*, with /opt/tradedesk/current pointing at this checkout so the
# executables exist. Skipped (exit 0, with a message) where systemd-analyze is not installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
if ! command -v systemd-analyze >/dev/null; then
    echo "verify-units: systemd-analyze not installed; skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tradedesk-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for unit in deploy/systemd/*.service; do
    sed -e "s#/opt/tradedesk/current#$ROOT#g" "$unit" >"$tmp/$(basename "$unit")"
done
# Template units are checked through an instance, like systemctl would start them.
cp "$tmp/tradedesk-worker@.service" "$tmp/tradedesk-worker@celery.service"
cp "$tmp/tradedesk-engine@.service" "$tmp/tradedesk-engine@paper.service"
units=("$tmp/tradedesk-web.service" "$tmp/tradedesk-beat.service" "$tmp/tradedesk-worker@celery.service"
    "$tmp/tradedesk-engine@paper.service" "$tmp/tradedesk-ingest.service" "$tmp/tradedesk-stream.service")
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "${units[@]}" 2>&1 || echo "verify-units: exit $?")
# Users and groups need not exist on a build machine; everything else is a finding.
findings=$(printf '%s\n' "$out" | grep -v -e '^$' -e "Failed to resolve user" -e "Failed to resolve group" \
    -e "Special user .* configured" || true)
if [ -n "$findings" ]; then
    printf '%s\n' "$findings"
    echo "verify-units: FAILED"
    exit 1
fi
echo "verify-units: ${#units[@]} units verified"
