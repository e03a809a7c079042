"""Run every benchmark in bench/ one after the other (``make bench``)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

failed = 0
for script in sorted(HERE.glob("*.py")):
    if script.name == Path(__file__).name or script.name.startswith("_"):
        continue
    print(f"\n=== {script.name}", flush=True)
    failed += subprocess.call([sys.executable, str(script)]) != 0
sys.exit(1 if failed else 0)
