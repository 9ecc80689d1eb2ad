"""Shape checks for the shipped sample data (`finetune_kit/sample_data/`), with plain json/regex parsing only.

They don't use `finetune_kit.chats`: these tests pin what the data *is*, so a reader bug can't hide a data bug.
"""
import importlib.util, json, math, re
from collections import Counter
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent
SD = REPO / 'finetune_kit' / 'sample_data'
MSGS = SD / 'messenger' / 'your_facebook_activity' / 'messages'
POD = SD / 'podcast'
ME = 'Sam Rivera'
CUE = re.compile(r'^((?:\d{2}:)?\d{2}:\d{2}\.\d{3}) --> ((?:\d{2}:)?\d{2}:\d{2}\.\d{3})\n(?:\[(SPEAKER_\d{2})\]: )?(.+)$')


def fix(s): return s.encode('latin-1').decode('utf-8')


def thread_files():
    return sorted(p for p in MSGS.glob('*/*/message_*.json'))


def load_thread(folder):
    "All messages of one thread folder, oldest first (files newest-first, message_1 newest)"
    files = sorted(folder.glob('message_*.json'), key=lambda p: -int(p.stem.split('_')[1]))
    return [m for f in files for m in json.loads(f.read_text())['messages'][::-1]]


def test_generator_reproduces_the_shipped_data(tmp_path):
    spec = importlib.util.spec_from_file_location('make_sample_data', REPO / 'tests' / 'make_sample_data.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    mod.main(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*') if p.is_file())
    shipped = sorted(p.relative_to(SD) for p in SD.rglob('*') if p.is_file())
    assert made == shipped
    for rel in made: assert (tmp_path / rel).read_bytes() == (SD / rel).read_bytes(), rel
    assert sum((SD / r).stat().st_size for r in shipped) < 620_000


def test_messenger_layout_and_thread_keys():
    files = thread_files()
    sections = Counter(p.parent.parent.name for p in files)
    assert set(sections) == {'inbox', 'archived_threads'}
    folders = {p.parent for p in files}
    assert all(re.fullmatch(r'[a-z0-9]+_\d+', f.name) for f in folders)
    assert (MSGS / 'inbox' / 'mateohernandez_10158234567890123' / 'message_2.json').exists()
    other = json.loads((MSGS / 'autofill_information.json').read_text())          # a non-thread file in the tree
    assert 'messages' not in other and 'participants' not in other
    groups, one_to_one = [], []
    for p in files:
        d = json.loads(p.read_text())
        assert {'participants', 'messages', 'title', 'thread_path', 'is_still_participant'} <= set(d), p
        names = [fix(x['name']) for x in d['participants']]
        assert ME in names, p
        ts = [m['timestamp_ms'] for m in d['messages']]
        assert ts == sorted(ts, reverse=True), f'{p} is not newest first'
        assert all({'sender_name', 'timestamp_ms'} <= set(m) for m in d['messages'])
        if p.name == 'message_1.json' and p.parent.parent.name == 'inbox':
            (groups if len(names) > 2 else one_to_one).append(fix(d['title']))
    assert len(one_to_one) >= 5 and len(groups) == 1
    assert 'Facebook user' in one_to_one
    g = json.loads((MSGS / 'inbox' / 'trailrats_4437375262993687' / 'message_1.json').read_text())
    assert len(g['participants']) >= 4 and fix(g['title']) == 'trail rats 🏃'


def test_message_1_is_newer_than_message_2():
    d = MSGS / 'inbox' / 'mateohernandez_10158234567890123'
    m1, m2 = (json.loads((d / f'message_{i}.json').read_text())['messages'] for i in (1, 2))
    assert min(m['timestamp_ms'] for m in m1) > max(m['timestamp_ms'] for m in m2)


def test_mojibake_is_metas():
    raw = (MSGS / 'inbox' / 'zoekowalczyk_5827193650281734' / 'message_1.json').read_text()
    assert raw.isascii()
    assert r'"Zo\u00c3\u00ab Kowalczyk"' in raw                       # ë as two byte escapes
    allraw = ''.join(p.read_text() for p in thread_files())
    assert r'\u00f0\u009f\u0098\u0082' in allraw                        # 😂
    assert r'\u00c3\u00a1' in allraw                                     # á (Mateo Hernández)
    assert not re.search(r'\\u0(?!0[0-9a-f]{2})', allraw), 'only \\u00XX escapes, as Meta writes them'


def test_messenger_system_media_and_edge_messages():
    msgs = [m for p in thread_files() for m in json.loads(p.read_text())['messages']]
    text = [fix(m['content']) for m in msgs if 'content' in m]
    assert any(re.fullmatch(r'Reacted 😂 to your message ', t) for t in text)      # trailing space kept
    assert any(t.endswith(' sent an attachment.') for t in text)
    assert any(re.fullmatch(r'.+ added .+ to the group\.', t) for t in text)
    assert any(re.fullmatch(r'.+ named the group .+\.', t) for t in text)
    assert any(t.endswith(' left the group.') for t in text)
    keys = Counter(k for m in msgs for k in m if k not in ('sender_name', 'timestamp_ms', 'content'))
    for k in ('photos', 'sticker', 'share', 'call_duration', 'is_unsent', 'reactions', 'gifs', 'missed'):
        assert keys[k] > 0, k
    assert any(set(m) == {'sender_name', 'timestamp_ms'} for m in msgs), 'an empty message'
    assert any(fix(m['sender_name']) == 'Facebook user' for m in msgs)
    photo = next(m for m in msgs if 'photos' in m)['photos'][0]
    assert photo['creation_timestamp'] < 10**10                          # seconds, not ms


def test_sam_style_and_pairs():
    n_msgs, n_sam, pairs, sessions_gaps = 0, [], 0, 0
    for folder in sorted({p.parent for p in thread_files()}):
        msgs = load_thread(folder)
        n_msgs += len(msgs)
        for a, b in zip(msgs, msgs[1:]):
            if b['timestamp_ms'] - a['timestamp_ms'] > 4 * 3_600_000: sessions_gaps += 1
        prev = None
        for m in msgs:
            if 'content' not in m or 'call_duration' in m or 'share' in m: continue
            who = fix(m['sender_name'])
            t = fix(m['content'])
            if re.search(r' (added|named|created|left) (.+ to )?the group', t) or t.startswith('Reacted '): continue
            if who == ME:
                n_sam.append(t)
                if prev is not None and prev != ME: pairs += 1
            prev = who
    assert 1500 <= n_msgs <= 3000
    assert pairs >= 600, pairs
    assert sessions_gaps >= 200                                          # multi-hour gaps: session splitting matters
    lower = sum(t == t.lower() for t in n_sam) / len(n_sam)
    no_period = sum(not t.endswith('.') for t in n_sam) / len(n_sam)
    assert lower > 0.97 and no_period > 0.99, (lower, no_period)
    for phrase in ('lol', 'ngl', 'dude'): assert any(phrase in t.split() for t in n_sam), phrase


def test_seed_prompts_are_there():
    text = {fix(m['content']) for p in thread_files() for m in json.loads(p.read_text())['messages'] if 'content' in m}
    for t in ('i need your advice', 'she said she wanted to "take a break"', 'gels are such a game changer', 'felt amazing at mile 15 today'):
        assert t in text, t


def read_vtt(path):
    body = path.read_text(encoding='utf-8')
    assert body.startswith('WEBVTT\n\n')
    cues = [CUE.match(b) for b in body[len('WEBVTT\n\n'):].strip('\n').split('\n\n')]
    assert all(cues), path
    return [(c[3], c[4]) for c in cues]


def read_json(path):
    d = json.loads(path.read_text(encoding='utf-8'))                    # Python accepts the bare NaN
    assert set(d) == {'segments', 'word_segments', 'language'} and d['language'] == 'en'
    return d


def host_guest(turns):
    c = Counter()
    for spk, text in turns: c[spk] += len(text)
    return c['SPEAKER_00'] / c['SPEAKER_01']


def episodes():
    eps = {}
    for p in sorted(POD.glob('*.vtt')): eps.setdefault(p.stem, {})['vtt'] = read_vtt(p)
    for p in sorted(POD.glob('*.json')):
        eps.setdefault(p.stem, {})['json'] = [(s.get('speaker'), s['text']) for s in read_json(p)['segments']]
    return eps


def test_podcast_formats_and_ratios():
    eps = episodes()
    assert 4 <= len(eps) <= 6
    kinds = Counter(frozenset(v) for v in eps.values())
    assert kinds[frozenset({'vtt'})] and kinds[frozenset({'json'})] and kinds[frozenset({'vtt', 'json'})]
    ratios = {}
    for name, v in eps.items():
        turns = v.get('json') or v['vtt']
        assert 40 <= len(turns) <= 80, (name, len(turns))
        assert turns[0][0] == 'SPEAKER_00' and turns[0][1].startswith('This is my conversation with ')
        asker = 'SPEAKER_01' if name == 'ep04_kenji_mori' else 'SPEAKER_00'       # ep04: labels flip after the intro
        assert sum(spk == asker and t.endswith('?') for spk, t in turns) >= (3 if asker == 'SPEAKER_01' else 5), name
        ratios[name] = host_guest(turns)
        if 'vtt' in v and 'json' in v: assert host_guest(v['vtt']) == pytest.approx(ratios[name])
    high = [n for n, r in ratios.items() if r > 1]
    assert high == ['ep04_kenji_mori'], ratios
    assert all(r < 0.5 for n, r in ratios.items() if n not in high), ratios


def test_whisperx_json_edge_cases():
    segs = [s for p in sorted(POD.glob('*.json')) for s in read_json(p)['segments']]
    assert any('speaker' not in s and s['words'] for s in segs)                        # no diarization overlap
    failed = [s for s in segs if s['words'] == []]
    assert failed and all(s['chars'] is None and s['text'].startswith(' ') for s in failed)
    assert any(math.isnan(s['start']) for s in segs)
    words = [w for s in segs for w in s['words']]
    assert any('start' not in w for w in words) and any('start' in w and 'speaker' not in w for w in words)
    assert all(set(w) <= {'word', 'start', 'end', 'score', 'speaker'} for w in words)
    both = read_json(POD / 'ep02_hannah_okoye.json')
    assert both['word_segments'] == [w for s in both['segments'] for w in s['words']]
    vtt = read_vtt(POD / 'ep02_hannah_okoye.vtt')                                     # failed segment has no cue
    assert len(vtt) == sum(1 for s in both['segments'] if s['words']) and any(spk is None for spk, _ in vtt)
    assert b'NaN' in (POD / 'ep03_rosa_delgado.json').read_bytes()


def test_quotes():
    lines = (SD / 'quotes' / 'quotes.jsonl').read_text(encoding='utf-8').split('\n')
    assert lines[-1] == ''
    rows = [json.loads(l) for l in lines[:-1]]
    assert 300 <= len(rows) <= 400
    assert all(set(r) == {'author', 'quote'} and r['author'] and r['quote'] for r in rows)
    assert len({r['quote'] for r in rows}) == len(rows)
    authors = {r['author'] for r in rows}
    assert {'Oscar Wilde', 'Mark Twain', 'Benjamin Franklin', 'Seneca', 'Marcus Aurelius', 'Confucius',
            'William Shakespeare', 'Jane Austen', 'Ralph Waldo Emerson', 'Henry David Thoreau'} <= authors
    assert sum(len(r['quote']) < 200 for r in rows) / len(rows) > 0.95
    assert all(not r['quote'].startswith('"') for r in rows)
    assert (SD / 'quotes' / 'README.md').exists() and (SD / 'README.md').exists()
