"""Tests for finetune_kit.style: feature and distance properties (hypothesis), report errors, the console text, sampling
one seed per set (the cause of the short replies in issue 14), batched = unbatched, and the saved report in chromium."""
import os
import pytest, torch
from hypothesis import given, settings, strategies as st
from transformers import AutoTokenizer
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit.adapters import lora
from finetune_kit.prompts import PAIRS
from finetune_kit.train import generate
from finetune_kit import style as S
from browser import probe_page

os.environ.setdefault('MPLBACKEND', 'Agg')
FMT = lambda p: PAIRS.prompt.format(prompt=p)

@pytest.fixture(scope='module')
def tok(): return AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))

@pytest.fixture(scope='module')
def tiny(): return lora(tiny_model('llama'))

# ---- distances and features ----

nums = st.lists(st.integers(0, 60).map(float), min_size=1, max_size=40)

@given(nums, nums)
def test_ks_is_a_bounded_symmetric_distance(a, b):
    d = S.ks_distance(a, b)
    assert 0 <= d <= 1 and d == S.ks_distance(b, a)
    assert S.ks_distance(a, list(reversed(a))) == 0
    assert S.ks_distance(a, [x + 1000 for x in a]) == 1

@given(st.lists(st.booleans(), min_size=1, max_size=30), st.lists(st.booleans(), min_size=1, max_size=30))
def test_ks_on_shares_is_their_difference(a, b):
    assert S.ks_distance(list(map(float, a)), list(map(float, b))) == pytest.approx(abs(sum(a) / len(a) - sum(b) / len(b)))

texts = st.lists(st.text(st.sampled_from(list('abcAB .!?|🏃lo h')), max_size=30), min_size=1, max_size=20)

@settings(max_examples=40, deadline=None)
@given(texts, texts)
def test_report_never_fails_and_stays_in_bounds(real, other):
    r = S.style_report(real, {'other': other, 'same': list(real)})
    assert r.distance['same'] == 0
    assert all(0 <= d <= 1 for d in r.distances['other'].values()) and 0 <= r.distance['other'] <= 1
    assert set(r.distances['other']) == set(S.FEATURES)
    text = str(r)
    assert all(f.label in text for f in r.features)

def test_distinct2_compares_sets_of_different_sizes_fairly():
    # distinct-2 of one person's replies falls as the set grows; measured on equally many replies it doesn't mislead
    many = [f"i am {w} today|see you at {n}" for n in range(20) for w in ('tired', 'late', 'fine')]
    r = S.style_report(many, {'same person, fewer replies': many[::6]})
    assert r.distances['same person, fewer replies']['distinct2'] < 0.05, r.summary

def test_report_errors_say_what_to_pass():
    with pytest.raises(ValueError, match='non-empty list of strings'): S.style_report(['a'], {'tuned': []})
    with pytest.raises(ValueError, match="names both the real set"): S.style_report(['a'], {'real': ['b']})
    with pytest.raises(ValueError, match='non-empty list of strings'): S.style_report([1, 2], {'x': ['b']})

def test_podcast_host_turns():
    host = ['What is lactate threshold, in plain words?', 'And how do you train it?', 'Why does that matter?']
    essays = ['Lactate threshold is the fastest pace you can hold for an hour. It matters for racing.'] * 3
    r = S.style_report(host, {'tuned': essays}, sep=None, features=['chars', 'words', 'question'])
    assert r['real']['question'] == 1 and r['tuned']['question'] == 0 and r.distances['tuned']['question'] == 1
    assert [f.name for f in r.features] == ['chars', 'words', 'question']

# ---- sampling for the report ----

def test_one_seed_per_prompt_is_one_draw(tiny, tok):
    """The cause of issue 14's 5.8 characters: re-seeding before each prompt gives every prompt the same random numbers.
    `replies` seeds once per set, so identical prompts get different draws; base and tuned share the stream."""
    same = [generate(tiny, tok, FMT('dude'), max_new_tokens=6, do_sample=True, temperature=1.0, seed=0)[0] for _ in range(4)]
    assert len(set(same)) == 1                                   # what compare/generate(seed=0) per prompt does
    fair = S.replies(tiny, tok, ['dude'] * 4, fmt=FMT, max_new_tokens=6)
    assert len(set(fair)) == 4
    assert S.replies(tiny, tok, ['dude'] * 4, fmt=FMT, max_new_tokens=6) == fair   # reproducible
    assert S.replies(tiny, tok, ['dude'] * 4, fmt=FMT, max_new_tokens=6, seed=1) != fair

def test_batched_equals_one_at_a_time(tiny, tok):
    # left padding and its attention mask: a short prompt in a batch with a long one answers as it does alone
    prompts = ['dude', 'gels are such a game changer|felt amazing at mile 15 today', 'ok?']
    batched = S.replies(tiny, tok, prompts, fmt=FMT, do_sample=False, max_new_tokens=8, bs=3)
    alone = [S.replies(tiny, tok, [p], fmt=FMT, do_sample=False, max_new_tokens=8, bs=1)[0] for p in prompts]
    assert batched == alone
    assert tok.padding_side == 'right'                           # restored

def test_replies_leave_the_model_as_they_found_it(tiny, tok):
    tiny.train()
    S.replies(tiny, tok, ['dude'], fmt=FMT, adapter=False, max_new_tokens=2)
    assert tiny.training
    with pytest.raises(TypeError, match='no adapter to switch off'): S.replies(tiny_model('llama'), tok, ['x'], adapter=False)

# ---- the saved report in a real headless browser ----

PROBE = '''<script>window.addEventListener('load', () => {
  const img = document.querySelector('img.fk-style-plot'), tab = document.querySelector('table.fk-style');
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({img_w: img ? img.naturalWidth : 0, rows: tab ? tab.rows.length : 0,
    cols: tab ? tab.rows[0].cells.length : 0, d: [...document.querySelectorAll('b.fk-distance')].map(b => b.innerText)});
  document.body.appendChild(pre); });</script>'''

def test_saved_report_renders_in_headless_chromium(tmp_path):
    r = S.style_report(['down|what time', 'lol ok', 'yes|u coming?', 'ya'], {'base': ['Certainly! I can help.'] * 4,
                       'tuned': ['ok|when', 'lol', 'ya|u there?', 'yes']}, name='Sam')
    got = probe_page(r.save(tmp_path/'style.html'), PROBE, tmp_path)
    assert got['img_w'] > 600 and got['rows'] == len(S.FEATURES) + 2 and got['cols'] == 4, got
    assert got['d'] == [f"{r.distance['base']:.2f}", f"{r.distance['tuned']:.2f}"] and r.distance['tuned'] < r.distance['base']
