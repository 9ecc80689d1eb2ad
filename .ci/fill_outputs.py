#!/usr/bin/env python
"""Run notebooks and keep their outputs (the reports, tables and plots the rendered docs show):

    python .ci/fill_outputs.py nbs/07_demo.ipynb [more notebooks...]   # then nbdev_clean, review, commit

Each notebook runs top to bottom in its own folder, the way nbdev_test runs it (cells flagged `#| eval: false` or with
one of settings.ini's tst_flags, e.g. `#| slow`, are skipped), and stops at the first error without writing.
What is kept: every output of visible cells except stderr streams (warnings and library noise, which the tests check
elsewhere) and live-widget views (they need a running kernel; a widget that should show in the docs saves an HTML or
PNG form of itself). `#| hide` cells keep no output. nbdev_clean afterwards strips volatile metadata; CI checks that
notebooks are clean and that nbdev_test leaves them unchanged, so kept outputs only change when someone reruns this."""
import os, re, sys, configparser, json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
FLAGS = set(cfg['DEFAULT'].get('tst_flags', '').split())

def directives(src:str)->set:
    return {l.strip()[3:].strip() for l in src.splitlines() if re.match(r'\s*#\|', l)}

def skip(cell)->bool:
    d = directives(cell.source)
    return any(x.replace(' ', '') == 'eval:false' for x in d) or bool(FLAGS & {x.split()[0] for x in d if x})

def keep(out:dict)->dict|None:
    if out.get('output_type') == 'stream' and out.get('name') == 'stderr': return None
    data = out.get('data')
    if data is not None:
        data = {k: v for k, v in data.items() if k != 'application/vnd.jupyter.widget-view+json'}
        if not data or set(data) == {'text/plain'} and re.match(r"^(HBox|VBox|Output|Button)\(", ''.join(data['text/plain'])):
            return None
        out = {**out, 'data': data}
    return out

def fill(path:Path):
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nb, here = read_nb(path), os.getcwd()
    os.chdir(path.parent)
    try: CaptureShell().run_all(nb, exc_stop=True, preproc=skip)
    finally: os.chdir(here)
    for c in nb.cells:
        if c.cell_type != 'code': continue
        if 'hide' in directives(c.source) or skip(c): c.outputs = []
        else: c.outputs = [o for o in map(keep, c.get('outputs', [])) if o is not None]
    write_nb(nb, path)
    n = sum(bool(c.get('outputs')) for c in nb.cells if c.cell_type == 'code')
    print(f"{path.relative_to(ROOT)}: {n} cells keep an output")

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]: fill(Path(p).resolve())
