"""Audit the locked dependencies for known security advisories: pip-audit over `uv export`.

Fails (exit 1) only on a known advisory. When the advisory service cannot be reached, or answers for
none of the packages (a registry mirror without PyPI's per-version JSON does that), it says so loudly
— "NOT CHECKED" with the reason — instead of passing as if everything had been audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        requirements, report = Path(folder) / "requirements.txt", Path(folder) / "audit.json"
        export = ["uv", "export", "--frozen", "--format", "requirements-txt", "--no-hashes", "--no-emit-project"]
        requirements.write_text(subprocess.run(export, check=True, capture_output=True, text=True).stdout)
        total = sum(1 for line in requirements.read_text().splitlines() if line and not line.startswith((" ", "#")))
        options = ["--no-deps", "--disable-pip", "--progress-spinner", "off", "--vulnerability-service", "pypi"]
        audit = subprocess.run(
            ["pip-audit", "-r", str(requirements), *options, "-f", "json", "-o", str(report)],
            capture_output=True,
            text=True,
        )
        if not report.exists():
            reason = (audit.stderr.strip().splitlines() or ["pip-audit gave no report"])[-1]
            print(f"dependency audit: NOT CHECKED — the advisory service could not be reached ({reason[:200]})")
            return 0
        dependencies = json.loads(report.read_text())["dependencies"]
    found = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in found:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"dependency audit: {dependency['name']} {dependency['version']} has known advisories: {ids}")
    audited = len(dependencies) - len(skipped)
    if audited == 0:
        reason = skipped[0]["skip_reason"] if skipped else "no packages in the report"
        print(f"dependency audit: NOT CHECKED — 0 of {total} locked packages audited ({reason})")
    else:
        print(f"dependency audit: {audited} of {total} locked packages audited, {len(found)} with known advisories")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
