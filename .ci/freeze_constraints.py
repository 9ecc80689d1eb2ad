#!/usr/bin/env python
"""Write constraints.txt: the exact version of every package in a known-good virtual environment.

    python .ci/freeze_constraints.py [--python .venv/bin/python] [--out constraints.txt]

Run it in (or point it at) a venv where the README's test command just passed. CI and the README's commands install
with `-c constraints.txt`, so a commit that was green stays green when new releases appear; the canary job
(.ci/canary, .github/workflows/canary.yaml) installs without it and shows what the newest releases do.
finetune_kit itself is left out (it is installed from the checkout), and so are pip and the build tools. torch is
written without its local build label (`2.13.0`, not `2.13.0+cpu`): `==2.13.0` accepts the CPU build CI installs and
the regular build a user's machine may take, so the README's first `pip install torch==2.13.0` is never contradicted."""
import argparse, datetime, platform, re, subprocess, sys
from pathlib import Path

SKIP = {'pip', 'setuptools', 'wheel', 'finetune-kit', 'finetune_kit'}

def freeze(python:str)->list:
    out = subprocess.run([python, '-m', 'pip', 'freeze', '--all', '--exclude-editable'], check=True,
                         capture_output=True, text=True).stdout
    pins = []
    for line in out.splitlines():
        m = re.match(r'^([A-Za-z0-9_.\-]+)==([^\s;]+)$', line.strip())
        if not m: raise SystemExit(f"pip freeze gave a line that is not a plain pin: {line!r} (install from an index, not a path)")
        name, version = m.groups()
        if name.lower().replace('_', '-') in SKIP: continue
        pins.append(f"{name}=={version.split('+')[0]}")  # drop local labels such as +cpu
    return sorted(pins, key=str.lower)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--python', default=sys.executable, help="the known-good venv's python (default: this one)")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent.parent/'constraints.txt'))
    a = ap.parse_args()
    pins = freeze(a.python)
    pyv = subprocess.run([a.python, '-c', 'import platform; print(platform.python_version())'], capture_output=True, text=True).stdout.strip()
    head = [f"# Exact versions of every package the tests install, from a venv where they passed (Python {pyv}, {platform.machine()},",
            f"# {datetime.date.today().isoformat()}). Written by .ci/freeze_constraints.py; refresh: README, 'Requirements'.",
            "# Used by the README's commands and .ci/run as `-c constraints.txt`; users' installs keep settings.ini's ranges."]
    Path(a.out).write_text('\n'.join(head + pins) + '\n', encoding='utf-8')
    print(f"wrote {a.out}: {len(pins)} pins")
