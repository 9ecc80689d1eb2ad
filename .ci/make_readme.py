#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (nbdev_readme needs quarto, which CI machines can't install).
Markdown cells are copied; code cells become ```python blocks; `#|` directive lines are dropped and `#| hide` cells
skipped. `--check` exits 1 when README.md is out of date."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        lines = src.split('\n')
        if c['cell_type'] == 'code':
            if any(l.strip().replace(' ', '') in ('#|hide', '#|hide_input') for l in lines): continue
            body = '\n'.join(l for l in lines if not l.lstrip().startswith('#|')).strip('\n')
            if body: parts.append(f"```python\n{body}\n```")
        elif src: parts.append(src)
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    out = render(root/'nbs'/'index.ipynb')
    readme = root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != out:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python .ci/make_readme.py` and commit it.")
        print("README.md is in sync with nbs/index.ipynb")
    else:
        readme.write_text(out, encoding='utf-8'); print(f"wrote {readme}")
