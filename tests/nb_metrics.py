#!/usr/bin/env python
"""How readable the notebooks and the library are (a script, not a test): python tests/nb_metrics.py [--json]

Per module (the code exported from nbs/), it prints
- exported cells: how many, how many over 15 and over 40 lines, and the longest run of exported cells with no prose
  (markdown) between them;
- line length of the exported code: median and 90th percentile (non-blank lines), the share over 120 characters
  outside regex/string tables, the longest line;
- statements chained with `;` (counted as real tokens, not inside strings);
- public parameters without a docments comment (nbdev renders those rows blank); a `**kwargs` counts as documented
  when its comment says where the arguments go (here or in the function it was delegated from);
- cells that keep an output (what the rendered docs show).

tests/test_docs.py asserts the targets on every module notebook with these functions.
"""
import dataclasses, io, json, re, statistics, sys, tokenize, importlib, inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def exported_module(nb:dict)->str|None:
    for c in nb['cells']:
        for line in ''.join(c['source']).splitlines():
            if line.replace(' ', '').startswith('#|default_exp'): return line.split('default_exp', 1)[1].strip()
    return None

def is_export(src:str)->bool:
    return any(l.replace(' ', '').startswith(('#|export', '#|exporti', '#|exports')) for l in src.splitlines()[:3])

def semicolons(src:str)->int:
    "`;` tokens that separate statements (strings and comments don't count)"
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return 0
    return sum(t.type == tokenize.OP and t.string == ';' for t in toks)

def table_line(line:str)->bool:
    "A line of a regex or a string table: long by nature"
    s = line.strip()
    return s.startswith(('r"', "r'", 're.compile', '"', "'")) or 're.compile(' in s or s.count("'") + s.count('"') >= 6

def exported_lines(path:Path)->list:
    "Non-blank lines of `path`'s exported cells (directive lines left out)"
    nb = json.loads(path.read_text(encoding='utf-8'))
    exp = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code' and is_export(''.join(c['source']))]
    return [l for s in exp for l in s.splitlines()[1:] if l.strip()]

def long_lines(path:Path, limit:int=120)->list:
    "Exported lines of `path` over `limit` characters that are not regex/string table lines"
    return [l for l in exported_lines(path) if len(l) > limit and not table_line(l)]

def notebook_stats(path:Path)->dict:
    nb = json.loads(path.read_text(encoding='utf-8'))
    cells = nb['cells']
    exp = [''.join(c['source']) for c in cells if c['cell_type'] == 'code' and is_export(''.join(c['source']))]
    lines = [l for s in exp for l in s.splitlines()[1:] if l.strip()]
    lens = sorted(len(l) for l in lines) or [0]
    run = best = 0
    for c in cells:
        if c['cell_type'] == 'markdown': run = 0
        elif is_export(''.join(c['source'])): run += 1; best = max(best, run)
    n_lines = [len([l for l in s.splitlines()[1:] if l.strip()]) for s in exp]
    return dict(module=exported_module(nb), notebook=str(path.relative_to(ROOT)), exported_cells=len(exp),
                over_15=sum(n > 15 for n in n_lines), over_40=sum(n > 40 for n in n_lines), longest_cell=max(n_lines, default=0),
                run_without_prose=best, median_len=int(statistics.median(lens)),
                p90_len=lens[min(len(lens)-1, int(0.9*len(lens)))], over_120=round(100*sum(len(l) > 120 and not table_line(l) for l in lines)/max(1, len(lines)), 1),
                longest_line=lens[-1], semicolons=sum(semicolons('\n'.join(s.splitlines()[1:])) for s in exp),
                outputs=sum(bool(c.get('outputs')) for c in cells if c['cell_type'] == 'code'))

def kwargs_comment(target, name:str)->bool:
    """Whether `**name` carries a docments comment saying where the keyword arguments go: in `target`'s source, or
    in the function a delegating decorator took it from (`__delwrap__`, as fastcore's `delegates` sets it)"""
    for f in (target, getattr(target, '__delwrap__', None)):
        if f is None: continue
        try: src = inspect.getsource(f)
        except (TypeError, OSError): continue
        if re.search(rf'\*\*{name}\b[^#\n]*#\s*\S', src): return True
    return False

def undocumented(modname:str)->list:
    """`module.function(param)` for each public parameter with no docments comment. A `**kwargs` counts as documented
    when its own comment says where the arguments go; `@delegates` replaces it by the documented parameters it forwards to"""
    from fastcore.docments import docments
    mod = importlib.import_module(f"finetune_kit.{modname}")
    out = []
    for name in getattr(mod, '__all__', []):
        obj = getattr(mod, name, None)
        if not callable(obj) or getattr(obj, '__module__', '') != mod.__name__: continue
        if inspect.isclass(obj):  # a dataclass documents its fields; another class, its own __init__ (if any)
            if dataclasses.is_dataclass(obj): target = obj
            elif '__init__' in vars(obj): target = obj.__init__
            else: continue
        else: target = obj
        try: sig, docs = inspect.signature(target), docments(target, full=True)
        except (TypeError, ValueError, OSError): continue
        for p, prm in sig.parameters.items():
            if p in ('self', 'cls'): continue
            if prm.kind == prm.VAR_KEYWORD and kwargs_comment(target, p): continue
            if not (docs.get(p) or {}).get('docment'): out.append(f"{name}({p})")
    return out

def main(as_json:bool=False):
    rows = []
    for path in sorted((ROOT/'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in path.parts: continue
        st = notebook_stats(path)
        if st['module']:
            try: st['undocumented'] = undocumented(st['module'])
            except Exception as e: st['undocumented'] = [f"(import failed: {e})"]
        rows.append(st)
    if as_json: print(json.dumps(rows, indent=1)); return rows
    cols = ['exported_cells', 'over_15', 'over_40', 'longest_cell', 'run_without_prose', 'median_len', 'p90_len', 'over_120',
            'longest_line', 'semicolons', 'outputs']
    print(f"{'notebook':42}" + ''.join(f"{c[:10]:>11}" for c in cols) + f"{'undoc':>7}")
    for r in rows:
        print(f"{r['notebook'][:42]:42}" + ''.join(f"{r[c]:>11}" for c in cols) + f"{len(r.get('undocumented', [])) if r['module'] else '':>7}")
    undoc = [f"{r['module']}.{u}" for r in rows if r['module'] for u in r.get('undocumented', [])]
    if undoc: print(f"\n{len(undoc)} public parameters without a docments comment:\n  " + '\n  '.join(undoc))
    return rows

if __name__ == '__main__': main('--json' in sys.argv)
