"Bad-input and parsing tests for `finetune_kit.demo` (the end-to-end run is in nbs/07_demo.ipynb)"
import json
import pytest
from finetune_kit.demo import load_quotes, split_authors, keeps_format, format_rates, rates_line, main

def _write(tmp_path, lines, name='q.jsonl'):
    p = tmp_path/name; p.write_text('\n'.join(lines) + '\n', encoding='utf-8'); return p

def test_load_quotes_bundled():
    qs = load_quotes()
    assert len(qs) == 384 and all(set(q) >= {'author', 'quote'} for q in qs)

@pytest.mark.parametrize('line,msg', [
    ('[1, 2]', 'line 2: missing or empty author and quote'),
    ('{"author": "", "quote": "x"}', 'line 2: missing or empty author'),
    ('{"author": "Seneca", "quote": 3}', 'line 2: missing or empty quote'),
    ('{"author": "Seneca" "quote": "x"}', 'line 2: not JSON'),
])
def test_load_quotes_bad_line(tmp_path, line, msg):
    p = _write(tmp_path, [json.dumps({'author': 'Seneca', 'quote': 'Time heals.'}), line])
    with pytest.raises(ValueError, match=msg) as e: load_quotes(p)
    assert str(p) in str(e.value)

def test_load_quotes_empty(tmp_path):
    with pytest.raises(ValueError, match='no quotes'): load_quotes(_write(tmp_path, ['', '  ']))

def test_blank_lines_skipped_and_numbering_kept(tmp_path):
    p = _write(tmp_path, ['{"author": "A", "quote": "x"}', '', '{"author": "B"}'])
    with pytest.raises(ValueError, match='line 3'): load_quotes(p)

def test_split_authors():
    qs = load_quotes()
    train, held = split_authors(qs, n=16)
    assert len(held) == 16 and not {q['author'] for q in train} & set(held)
    assert split_authors(qs, seed=1)[1] != split_authors(qs, seed=0)[1]
    with pytest.raises(ValueError, match='lower n'): split_authors(qs, n=500)

@pytest.mark.parametrize('text,ended,ok', [
    ('"Know thyself."', True, True),
    (' "Know thyself." ', True, True),
    ('"Know thyself."', False, False),
    ('"Know thyself." Plato', True, False),
    ('"Know" "thyself"', True, False),
    ('""', True, False),
    ('Know thyself.', True, False),
    ('"Know\nthyself."', True, False),
])
def test_keeps_format(text, ended, ok): assert keeps_format(text, ended) == ok

def test_format_rates_counts():
    rows = [{'prompt': 'p1', 'base': 'w ' * 20, 'tuned': '"a b."'},
            {'prompt': 'p2', 'base': '"a b."', 'tuned': '"a b."'},
            {'prompt': 'p3', 'base': 'x', 'tuned': '"c d" and more'}]
    for row, eos in zip(rows, [(False, True), (True, True), (True, True)]): row.update(base_eos=eos[0], tuned_eos=eos[1])
    r = format_rates(rows, train_quotes=['a b.'])
    assert (r['base'], r['tuned'], r['distinct'], r['copied']) == (1/3, 2/3, 1, 2)
    assert r['base_ok'] == [False, True, False]
    assert 'base 1/3 (33%), tuned 2/3 (67%)' in rates_line(r)

@pytest.mark.parametrize('argv', [['--steps', '0'], ['--steps', 'ten'], ['--bogus']])
def test_main_rejects_bad_args(argv, capsys):
    with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code == 2 and 'usage: finetune_kit_demo' in capsys.readouterr().err

def test_main_help(capsys):
    with pytest.raises(SystemExit) as e: main(['--help'])
    assert e.value.code == 0 and '--steps' in capsys.readouterr().out
