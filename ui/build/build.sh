#!/bin/sh
# Builds the GOV.UK Frontend assets that the ui package embeds, so that the Go
# build needs no Node. Run after changing the pinned versions in package.json
# or the styles in app.scss, and commit the result in ui/static/.
#
# The Sass is compiled with a non-GDS font: GDS Transport and the crown are
# reserved for GOV.UK services, so neither the fonts nor the crown images are
# copied.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/../static"
gf="$here/node_modules/govuk-frontend/dist/govuk"

cd "$here"
if [ ! -d node_modules/govuk-frontend ] || [ ! -d node_modules/sass ]; then
  npm ci --no-audit --no-fund
fi

mkdir -p "$out"
rm -f "$out/app.min.css" "$out/govuk-frontend.min.js"
rm -rf "$out/images"

npx --no-install sass \
  --no-source-map \
  --style=compressed \
  --quiet-deps \
  --load-path=node_modules \
  app.scss "$out/app.min.css"

# ES module exporting initAll; app.js imports it. The source map is not
# shipped, so its reference is dropped.
sed -e 's#//\# sourceMappingURL=.*$##' "$gf/govuk-frontend.min.js" > "$out/govuk-frontend.min.js"

# Reference markup for the Go component templates' tests.
fixtures="$here/../testdata/govuk-fixtures"
mkdir -p "$fixtures"
for c in input password-input button error-summary; do
  cp "$gf/components/$c/fixtures.json" "$fixtures/$c.json"
done

# Only the images the compiled CSS refers to (none in current releases of
# govuk-frontend, but a future one may add some); the GOV.UK crown, favicons
# and touch icons are left out on purpose.
grep -o 'url([^)]*)' "$out/app.min.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/^["'"'"']//' -e 's/["'"'"']$//' | sort -u |
while IFS= read -r ref; do
  case "$ref" in
    data:*) ;;
    /assets/images/*)
      name=${ref#/assets/images/}
      mkdir -p "$out/images"
      cp "$gf/assets/images/$name" "$out/images/$name"
      ;;
    *)
      echo "build.sh: unexpected url($ref) in compiled CSS" >&2
      exit 1
      ;;
  esac
done

echo "built $(wc -c < "$out/app.min.css") bytes of CSS into $out"
