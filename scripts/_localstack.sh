# Sourced by scripts/test: LocalStack's S3 (tests/s3server.py) in a virtual environment of
# its own, because its unpinned dependencies clash with ours and have moved on since 4.9.2.
LOCALSTACK_VENV="$ROOT/.venv-localstack"
LOCALSTACK_PINS=('localstack-core[runtime]==4.9.2' 'cbor2<5.7' 'pyOpenSSL<24.3' 'cryptography<44'
  'psutil<7' 'service_identity<25')
if [ "$(cat "$LOCALSTACK_VENV/.installed" 2>/dev/null)" != "${LOCALSTACK_PINS[*]}" ]; then
  echo "installing LocalStack's S3 into .venv-localstack for the S3 tests ..." >&2
  "$PYTHON" -m venv "$LOCALSTACK_VENV"
  "$LOCALSTACK_VENV/bin/python" -m pip install -q "${LOCALSTACK_PINS[@]}" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
  "$LOCALSTACK_VENV/bin/python" -c 'import localstack.runtime.main' \
    && echo "${LOCALSTACK_PINS[*]}" > "$LOCALSTACK_VENV/.installed"
fi
