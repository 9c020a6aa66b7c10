#!/usr/bin/env bash
# Refresh trygg/static/vendor/ from the versions pinned in package.json (`make assets`).
# Needs npm; `make run` does not: the built files are committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pin() { node -e "console.log(require('$root/package.json').dependencies['$1'])"; }
for pkg in @digdir/designsystemet-css chart.js dejavu-fonts-ttf; do
  npm pack --silent "$pkg@$(pin "$pkg")" >/dev/null
done
out="$root/trygg/static/vendor"
rm -rf "$out" && mkdir -p "$out/designsystemet" "$out/chartjs" "$out/dejavu"
mkdir ds && tar xzf digdir-designsystemet-css-*.tgz -C ds
cp ds/package/dist/src/index.css "$out/designsystemet/designsystemet.css"
cp ds/package/dist/theme/designsystemet.css "$out/designsystemet/theme.css"
cp ds/package/LICENSE "$out/designsystemet/LICENSE"
mkdir cj && tar xzf chart.js-*.tgz -C cj
cp cj/package/dist/chart.umd.min.js "$out/chartjs/chart.umd.min.js"
cp cj/package/LICENSE.md "$out/chartjs/LICENSE.md"
# The PDF exports' font: Norwegian letters (and the rest of Unicode) embedded as subsets.
mkdir dv && tar xzf dejavu-fonts-ttf-*.tgz -C dv
cp dv/package/ttf/DejaVuSans.ttf dv/package/ttf/DejaVuSans-Bold.ttf "$out/dejavu/"
cp dv/package/LICENSE "$out/dejavu/LICENSE"
{
  echo "Vendored by tools/vendor_assets.sh from package.json; do not edit by hand."
  echo "@digdir/designsystemet-css $(pin @digdir/designsystemet-css) (MIT)"
  echo "chart.js $(pin chart.js) (MIT)"
  echo "dejavu-fonts-ttf $(pin dejavu-fonts-ttf) (Bitstream Vera / DejaVu licence)"
} > "$out/VERSIONS.txt"
echo "vendored into $out"
