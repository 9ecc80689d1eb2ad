"The notebooks stay readable: what tests/nb_metrics.py measures, asserted for every module notebook"
import sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from nb_metrics import ROOT, exported_module, long_lines, notebook_stats, undocumented, json

NOTEBOOKS = [p for p in sorted((ROOT/'nbs').rglob('*.ipynb')) if '.ipynb_checkpoints' not in p.parts
             and exported_module(json.loads(p.read_text(encoding='utf-8')))]

def test_found_the_module_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {'00_models.ipynb', '05_widget.ipynb', '09_export.ipynb', '01_core.ipynb'} <= names, names
    assert not any('tutorials' in p.parts or p.name == 'index.ipynb' for p in NOTEBOOKS)

@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT/'nbs')))
def test_notebook_reads_well(path):
    st = notebook_stats(path)
    rel = st['notebook']
    assert st['semicolons'] == 0, f"{rel}: {st['semicolons']} statements chained with `;` in exported cells; one per line"
    too_long = long_lines(path)
    assert not too_long, f"{rel}: exported lines over 120 characters (not a regex/string table):\n" + '\n'.join(too_long)
    assert st['p90_len'] <= 100, f"{rel}: 90th percentile of exported line length is {st['p90_len']}; wrap to <= 100"
    missing = undocumented(st['module'])
    assert not missing, f"{rel}: public parameters without a docments comment: {', '.join(missing)}"

def test_kwargs_rule():
    "`**kwargs` counts as documented only with its own comment; `@delegates` swaps it for the forwarded parameters"
    import types
    from fastcore.meta import delegates
    mod = types.ModuleType('finetune_kit._docs_probe')
    src = ('def inner(a:int=1, # the a\n          b:int=2): # the b\n    return a + b\n'
           'def bare(x, **kwargs):\n    return inner(**kwargs)\n'
           'def said(x:int, # an x\n         **kwargs, # passed to `inner`\n        ): return inner(**kwargs)\n'
           'def fwd(x:int, # an x\n        **kwargs): return inner(**kwargs)\n')
    path = ROOT/'tests'/'_docs_probe_tmp.py'
    path.write_text(src)
    try:
        import importlib.util
        spec = importlib.util.spec_from_file_location('finetune_kit._docs_probe', path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.deleg = delegates(mod.inner)(mod.fwd)  # no comment on **kwargs: delegates swaps it for a, b
        mod.deleg.__module__ = mod.__name__
        mod.__all__ = ['bare', 'said', 'deleg']
        sys.modules['finetune_kit._docs_probe'] = mod
        got = undocumented('_docs_probe')
    finally:
        path.unlink()
        sys.modules.pop('finetune_kit._docs_probe', None)
    assert got == ['bare(x)', 'bare(kwargs)'], got
