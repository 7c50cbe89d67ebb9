#!/bin/sh
# Install the Python packages the export read-back tests use (idempotent: pip skips what is
# already installed at a matching version). Usage: sh tools/install-test-deps.sh
set -eu
PY="${PYTHON:-python3}"
if "$PY" -c "import numpy, tifffile, meshio" 2>/dev/null; then
    echo "read-back test dependencies already installed"
    exit 0
fi
"$PY" -m pip install --quiet "numpy>=1.24" "tifffile>=2023.1" "meshio>=5.3"
"$PY" -c "import numpy, tifffile, meshio; print('numpy', numpy.__version__, 'tifffile', tifffile.__version__, 'meshio', meshio.__version__)"
