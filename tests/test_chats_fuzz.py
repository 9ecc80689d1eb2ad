"""Fuzzing every chat reader with hypothesis: random bytes, byte-level mutations of the fixtures and structural mutations
of their JSON. A reader may only return a balanced `Chats` (kept + skipped == read for every file) or raise
`ChatParseError`; never a KeyError/IndexError/TypeError from user data."""
import json, random, zipfile, io, shutil
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from finetune_kit.chats import *

F = Path(__file__).parent/'fixtures'/'chats'
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (reader, fixture, file name the reader is given, extra kwargs)
CASES = [
    (read_messenger, 'meta_legacy/messages/inbox/anakovac_5839201746582931/message_1.json', 'message_1.json', {'me': 'Jordan Pike'}),
    (read_messenger, 'meta_2024/your_facebook_activity/messages/inbox/climbingcrew_7261849302716455/message_1.json', 'message_1.json', {}),
    (read_messenger, 'meta_e2ee/Ana Kovač_12.json', 'Ana Kovač_12.json', {'me': 'Jordan Pike'}),
    (read_whatsapp, 'whatsapp/android_24h_dmy/WhatsApp Chat with Allotment 🌱.txt', 'WhatsApp Chat with Allotment.txt', {}),
    (read_whatsapp, 'whatsapp/ios_bracketed/_chat.txt', '_chat.txt', {'me': 'Priya'}),
    (read_whatsapp, 'whatsapp/header_variants.txt', 'chat.txt', {}),
    (read_telegram, 'telegram/single_chat/result.json', 'result.json', {}),
    (read_telegram, 'telegram/full_export/result.json', 'result.json', {}),
    (read_whisperx, 'whisperx/episode_017.json', 'ep.json', {}),
    (read_whisperx, 'whisperx/episode_017.vtt', 'ep.vtt', {}),
    (read_whisperx, 'whisperx/episode_017.srt', 'ep.srt', {}),
    (read_whisperx, 'whisperx/episode_017.txt', 'ep.txt', {}),
    (read_whisperx, 'lex_style/episode_017.json', 'lex.json', {}),
    (read_sharegpt, 'training/sharegpt.jsonl', 's.jsonl', {}),
    (read_openai, 'training/openai.jsonl', 'o.jsonl', {}),
    (read_alpaca, 'training/alpaca.json', 'a.json', {}),
    (load_chats, 'telegram/single_chat/result.json', 'result.json', {}),
    (load_chats, 'whatsapp/android_12h_us/WhatsApp Chat with Dana.txt', 'x.txt', {}),
    # real-format variants (tests/fixtures/chats/wild)
    (read_whisperx, 'wild/whisperx_all/interview_042.tsv', 'ep.tsv', {}),
    (read_whisperx, 'wild/vtt_no_ms/talk.vtt', 'talk.vtt', {}),
    (read_telegram, 'wild/telegram_no_from_id/result.json', 'result.json', {}),
    (read_messenger, 'wild/messenger_2018/messages/inbox/anakovac_1a2b3c4d5e/message.json', 'message.json', {}),
    (read_messenger, 'wild/instagram_no_participants/your_instagram_activity/messages/inbox/lenanovak_17841400000000000/message_1.json',
     'message_1.json', {}),
    (load_chats, 'wild/utf16/WhatsApp Chat with Dana.txt', 'x.txt', {}),
    (load_chats, 'wild/whatsapp_two_chats.zip', 'x.zip', {}),
]
IDS = [f"{r.__name__}:{Path(f).name}" for r, f, _, _ in CASES]


def check(reader, path, kwargs):
    "The contract: a balanced result of well-formed chats, or ChatParseError"
    try: cs = reader(path, **kwargs)
    except ChatParseError as e:
        assert str(path.name) in str(e) or str(path.parent) in str(e), e
        return None
    assert isinstance(cs, Chats) and cs.report.balanced, str(cs.report)
    for c in cs:
        assert isinstance(c, Chat) and c.turns
        for t in c.turns:
            assert isinstance(t.speaker, str) and isinstance(t.text, str) and t.text.strip()
            assert t.time is None or t.time.tzinfo is not None
            t.text.encode('utf-8')                       # no lone surrogates reach the output
    str(cs.report); cs.report._repr_markdown_()
    return cs


@pytest.fixture(scope='module')
def work(tmp_path_factory): return tmp_path_factory.mktemp('fuzz')


def _put(work, name, data):
    d = work/'case'
    if d.exists(): shutil.rmtree(d)
    d.mkdir()
    p = d/name; p.write_bytes(data)
    return p


@pytest.mark.parametrize('case', CASES, ids=IDS)
@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes(work, case, data):
    reader, _, name, kw = case
    check(reader, _put(work, name, data), kw)


@st.composite
def byte_mutations(draw, raw):
    b = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(['delete', 'insert', 'flip', 'truncate', 'dup']))
        i = draw(st.integers(0, max(len(b) - 1, 0)))
        if op == 'delete': del b[i:i + draw(st.integers(1, 40))]
        elif op == 'insert': b[i:i] = draw(st.sampled_from([b'\xff', b'\\x0', b'\\u00', b'"', b'\n', b'\r', b'{', b']', b',', b'null', b'NaN',
                                                            '\u2028'.encode(), '\u202f'.encode(), b': ', b' - ', b'[1/2/03, 4:05] ', b'\x00',
                                                            b'\\ud83d', b'\\u00e9', b'\\\\', b'-->', b'[SPEAKER_01]: ']))
        elif op == 'flip' and b: b[i] ^= draw(st.integers(1, 255))
        elif op == 'truncate': del b[i:]
        elif op == 'dup': b[i:i] = b[max(0, i - 60):i]
    return bytes(b)


@pytest.mark.parametrize('case', CASES, ids=IDS)
@FAST
@given(data=st.data())
def test_mutated_fixture_bytes(work, case, data):
    reader, fixture, name, kw = case
    raw = data.draw(byte_mutations((F/fixture).read_bytes()))
    check(reader, _put(work, name, raw), kw)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats() | st.text(max_size=12)
                           | st.sampled_from(['', 'message', 'service', 'text', 'media', 'Subscribe', 'Call', '1678788123', 'SPEAKER_00', 'human', 'gpt']),
                           lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=8), ch, max_size=3), max_leaves=6)


def _slots(o, out):
    "Every (container, key) in a JSON tree"
    if isinstance(o, dict):
        for k, v in o.items(): out.append((o, k)); _slots(v, out)
    elif isinstance(o, list):
        for i, v in enumerate(o): out.append((o, i)); _slots(v, out)
    return out


JSON_CASES = [c for c in CASES if c[1].endswith(('.json', '.jsonl'))]

@pytest.mark.parametrize('case', JSON_CASES, ids=[f"{r.__name__}:{Path(f).name}" for r, f, _, _ in JSON_CASES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_json_structure(work, case, data):
    reader, fixture, name, kw = case
    text = (F/fixture).read_text(encoding='utf-8')
    docs = [json.loads(l) for l in text.split('\n') if l.strip()] if fixture.endswith('.jsonl') else [json.loads(text)]
    for _ in range(data.draw(st.integers(1, 3))):
        d = docs[data.draw(st.integers(0, len(docs) - 1))]
        slots = _slots(d, [])
        if not slots: break
        cont, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        if data.draw(st.booleans()) and isinstance(cont, dict): del cont[key]
        else: cont[key] = data.draw(json_values)
    out = '\n'.join(json.dumps(x, ensure_ascii=data.draw(st.booleans())) for x in docs) if fixture.endswith('.jsonl') else json.dumps(docs[0])
    check(reader, _put(work, name, out.encode('utf-8', 'surrogatepass')), kw)


@FAST
@given(lines=st.lists(st.sampled_from(['14/03/2023, 09:02 - Priya: hi', '[3/13/24, 10:15:01\u202fPM] Lena: ok', '3/14/23, 12:30\u202fAM - Dana: <Media omitted>',
                                       'continuation', '', '\u200e[1/2/03, 4:05:06] A: \u200eimage omitted', '99/99/99, 99:99 - X: bad date',
                                       '14/03/2023, 09:02 - Tom left', 'POLL:', 'OPTION: a (1 vote)', 'x <This message was edited>',
                                       '٢٤/٤/٢٠٢٢، ٢:٠٧ م - سلمى: مرحبا', '13.6.2018 klo 21.25.15 - a: m']) | st.text(max_size=30), max_size=25))
def test_whatsapp_line_soup(work, lines):
    check(read_whatsapp, _put(work, 'WhatsApp Chat with X.txt', '\n'.join(lines).encode('utf-8', 'surrogatepass')), {})


@FAST
@given(data=st.data())
def test_mutated_whatsapp_zip(work, data):
    raw = data.draw(byte_mutations((F/'whatsapp/ios_bracketed/_chat.txt').read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z: z.writestr('_chat.txt', raw)
    zb = buf.getvalue()
    if data.draw(st.booleans()): zb = data.draw(byte_mutations(zb))
    check(read_whatsapp, _put(work, 'chat.zip', zb), {})


@FAST
@given(data=st.data())
def test_messenger_folder_mutations(work, data):
    "A whole thread folder (two message_N files plus a sibling) with one file mutated, read with errors='skip'"
    d = work/'folder'
    if d.exists(): shutil.rmtree(d)
    src = F/'meta_legacy/messages/inbox/anakovac_5839201746582931'
    shutil.copytree(src, d/'inbox'/src.name)
    victim = d/'inbox'/src.name/data.draw(st.sampled_from(['message_1.json', 'message_2.json']))
    victim.write_bytes(data.draw(byte_mutations(victim.read_bytes())))
    for errors in ('skip', 'raise'): check(read_messenger, d, {'me': 'Jordan Pike', 'errors': errors})
