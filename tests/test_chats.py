"Fixture corpus tests for finetune_kit.chats: expected turns and report counts for every file in tests/fixtures/chats."
import json, os, socket, subprocess, sys, zipfile, filecmp
from dataclasses import replace
from collections import Counter
from datetime import datetime, timezone, timedelta
from pathlib import Path
import pytest
from finetune_kit.chats import *
from chat_checks import turns, balanced

HERE = Path(__file__).parent
F = HERE/'fixtures'/'chats'
JP, ANA = 'Jordan Pike', 'Ana Kovač'




def test_fixtures_are_generated_by_the_script(tmp_path):
    "The committed corpus is byte-identical to what make_chat_fixtures.py writes"
    subprocess.run([sys.executable, str(HERE/'fixtures'/'make_chat_fixtures.py'), str(tmp_path)], check=True, capture_output=True)
    new = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*') if p.is_file())
    old = sorted(p.relative_to(F) for p in F.rglob('*') if p.is_file())
    assert new == old
    for rel in new: assert (tmp_path/rel).read_bytes() == (F/rel).read_bytes(), rel


def test_fixture_bytes_are_meta_escapes():
    raw = (F/'meta_legacy/messages/inbox/anakovac_5839201746582931/message_1.json').read_bytes()
    assert b'"Ana Kova\\u00c4\\u008d"' in raw and b'caf\\u00c3\\u00a9 at 7 \\u00e2\\u0098\\u0095' in raw and raw.isascii()
    assert b'\\x07' in (F/'telegram/broken_escape/result.json').read_bytes()
    assert b'NaN' in (F/'whisperx/episode_017_nan.json').read_bytes()
    assert '\u202f'.encode() in (F/'whatsapp/android_12h_us/WhatsApp Chat with Dana.txt').read_bytes()
    assert b'\r\n' in (F/'whatsapp/ios_bracketed/_chat.txt').read_bytes()


# ---------------------------------------------------------------- Messenger
def test_messenger_legacy_merges_files_and_infers_me():
    cs = balanced(read_messenger(F/'meta_legacy'))
    assert [c.title for c in cs] == ['Leo Brandt', ANA]
    assert all(c.meta['me'] == JP for c in cs)           # the only name in both threads
    ana = cs[1]
    assert turns(ana) == [(ANA, 'first, same millisecond 👍'), (JP, 'second, same millisecond'),
                          (JP, 'Does Thursday work?\nI can bring the maps.'), (ANA, 'Perfect, see you at the café at 7 ☕')]
    assert ana.turns[1].time == datetime.fromtimestamp(1622600000, timezone.utc)
    assert ana.turns[2].meta['reactions'] == ['❤'] and ana.meta['thread_type'] == 'Regular'
    assert [e['kind'] for e in ana.meta['events']] == ['call']
    r = cs.report
    assert (r.read, r.kept) == (13, 5)
    assert r.skipped == Counter(system=1, location=1, sticker=1, bare_url=1, call=1, pseudo_reaction=1, attachment_placeholder=1, unsent=1)
    assert r.repaired == Counter(mojibake=4)
    assert sorted((Path(p).name, why) for p, why in r.ignored) == [('autofill_information.json', 'not_messenger'),
                                                                  ('message_final.json', 'not_messenger')]


def test_messenger_one_file_one_folder_and_the_inbox():
    d = F/'meta_legacy/messages/inbox/anakovac_5839201746582931'
    assert len(read_messenger(d/'message_1.json', me=JP)[0].turns) == 2
    assert len(read_messenger(d, me=JP)[0].turns) == 4
    assert len(read_messenger(d.parent, me=JP)) == 1
    assert len(read_messenger(F/'meta_legacy/messages', me=JP)) == 2
    assert read_messenger(d)[0].meta['me'] == JP      # one 1:1 thread is titled with the other person's name


def test_messenger_2024_layout_group_and_duplicates():
    cs = balanced(read_messenger(F/'meta_2024', me=JP))
    crew = next(c for c in cs if c.title == 'Climbing crew 🧗')
    assert turns(crew) == [('Mia Sørensen', 'Saturday 9am at the north wall?'), ('Tomás Old', "I'm out this time, sorry 😢"),
                           ('Facebook user', "who's bringing the quickdraws?")]
    assert 'Tomás Old' in crew.participants                 # left the group: added from the senders
    assert [e['kind'] for e in crew.meta['events']] == ['group_event', 'group_event', 'call']
    assert crew.meta['section'] == 'inbox'
    cut = next(c for c in cs if c.meta['section'] == 'e2ee_cutover')
    assert turns(cut) == [(ANA, 'moving to the new chat 🔒')]
    r = cs.report
    assert (r.read, r.kept) == (9, 4)
    assert r.skipped == Counter(group_event=2, call=1, empty=1, duplicate=1)
    unknown = read_messenger(F/'meta_2024')           # two threads share two names: the group's me stays unknown
    assert {c.title: c.meta['me'] for c in unknown} == {'Climbing crew 🧗': None, ANA: JP}
    assert "pass me='Your Name'" in unknown.report.warnings[-1]


def test_messenger_e2ee_no_mojibake_repair():
    cs = balanced(read_messenger(F/'meta_e2ee'))
    assert cs[0].meta['me'] == JP and cs[0].meta['provenance'] == 'e2ee' and cs[0].title == ANA
    assert turns(cs[0]) == [(JP, 'Landed! Žilina is freezing 🥶'), (ANA, 'warm tea at the hut ☕ Ã© stays as written')]
    assert cs.report.skipped == Counter(media=2, bare_url=1, unsent=1)
    assert cs.report.notes['missing_attachment'] == 1 and not cs.report.repaired
    assert any('Empty Thread' in w for w in cs.report.warnings)
    assert len(read_messenger(F/'meta_e2ee', me=JP, drop_urls=False)[0].turns) == 3


def test_messenger_2018_seconds_and_errors():
    cs = balanced(read_messenger(F/'meta_2018', me=JP))
    assert turns(cs[0]) == [(JP, 'happy birthday!'), ('Sam Ørsted', 'Skål! 🍻')]
    assert cs.report.repaired == Counter(timestamp_seconds=2, mojibake=1)
    with pytest.raises(ChatParseError, match='Format: JSON'): read_messenger(F/'meta_html')
    with pytest.raises(ChatParseError, match=r'message_1.json, line \d+ column \d+'): read_messenger(F/'meta_corrupt', me=JP)
    cs = read_messenger(F/'meta_corrupt', me=JP, errors='skip')
    assert len(cs) == 0 and cs.report.ignored[0][1].startswith('messenger: invalid JSON')
    with pytest.raises(ChatParseError, match='no messenger files in this folder'): read_messenger(F/'whisperx')
    with pytest.raises(ChatParseError, match="not a Messenger thread"): read_messenger(F/'training/alpaca.json')
    with pytest.raises(FileNotFoundError): read_messenger(F/'nope')


# ---------------------------------------------------------------- WhatsApp
def test_whatsapp_android_24h():
    cs = balanced(read_whatsapp(F/'whatsapp/android_24h_dmy', me='Priya'))
    c = cs[0]
    assert c.title == 'Allotment 🌱' and c.meta['group'] and c.meta['me'] == 'Priya'
    assert turns(c) == [('Priya', 'Who has the shed key?'), ('Tom Hale', 'me, under the blue pot\nalso the tap is leaking again'),
                        ('Priya', 'tomatoes go in on Saturday'), ('Tom Hale', '12/31/2020 was the last time we fixed it')]
    assert c.turns[2].meta['edited'] and c.turns[3].time == datetime(2023, 3, 15, 18, 40, tzinfo=timezone.utc)
    assert '+44 7700 900123' in c.participants
    assert cs.report.skipped == Counter(system=2, e2e_notice=1, media_omitted=1, deleted=1, location=1, empty=1)
    assert cs.report.repaired == Counter(bidi_marks=1, edited_suffix=1)
    assert [e['text'][:23] for e in c.meta['events']] == ['Priya created group "Al', 'Priya changed the subje']


def test_whatsapp_android_12h_us_and_me_inference():
    cs = balanced(read_whatsapp(F/'whatsapp/android_12h_us'))
    c = cs[0]
    assert c.meta['me'] == 'Sam' and c.title == 'Dana'
    assert turns(c) == [('Dana', 'are we still on for tonight?'), ('Sam', 'yes!'), ('Sam', 'the new bike 🚲'),
                        ('Dana', "can't sleep, still thinking about that bike")]
    assert c.turns[3].time == datetime(2023, 3, 15, 0, 30, tzinfo=timezone.utc)      # 12:30 AM is 00:30
    assert c.turns[2].time == datetime(2023, 3, 14, 12, 45, tzinfo=timezone.utc)     # 12:45 PM is 12:45
    assert cs.report.skipped == Counter(attachment_only=1, contact=1, deleted=1)
    assert cs.report.repaired == Counter(time_whitespace=7)   # one per header
    ny = read_whatsapp(F/'whatsapp/android_12h_us', tz='America/New_York')[0]
    assert ny.turns[0].time == datetime(2023, 3, 14, 13, 2, tzinfo=timezone.utc)


def test_whatsapp_ios_txt_and_zip_agree():
    a = balanced(read_whatsapp(F/'whatsapp/ios_bracketed/_chat.txt', me='Priya'))
    b = balanced(read_whatsapp(F/'whatsapp/ios_bracketed/WhatsApp Chat - Allotment 🌱.zip', me='Priya'))
    assert turns(a[0]) == turns(b[0]) == [('Priya', 'Who has the shed key?'), ('Kit', "hi all, Kit from plot 9\nsecond line of Kit's message"),
                                          ('Tom Hale', 'see you there\u2028(line separator kept)')]
    assert b[0].title == 'Allotment 🌱'
    assert a.report.skipped == Counter(system=2, e2e_notice=1, media_omitted=1, attachment_only=1, poll=1, deleted=1)


def test_whatsapp_header_variants_and_not_whatsapp():
    cs = balanced(read_whatsapp(F/'whatsapp/header_variants.txt'))
    assert cs.report.read == cs.report.kept == 18
    by_text = {t.text: t for t in cs[0].turns}
    assert set(by_text) == set('abcdefghijklmnopqr')
    assert by_text['h'].speaker == 'سلمى' and by_text['h'].time == datetime(2022, 4, 24, 14, 7, tzinfo=timezone.utc)
    assert by_text['d'].time == datetime(2017, 6, 20, 20, 28, tzinfo=timezone.utc)
    assert by_text['f'].time == datetime(2018, 6, 13, 21, 25, 15, tzinfo=timezone.utc)
    assert by_text['l'].time == datetime(2018, 6, 13, 21, 25, 15, tzinfo=timezone.utc)
    assert by_text['b'].time == datetime(2023, 3, 14, 9, 2, tzinfo=timezone.utc)
    assert cs.report.repaired['digits'] == 1 and cs.report.repaired['mixed_header_formats'] == 3
    with pytest.raises(ChatParseError, match="could not detect a WhatsApp message header.*Shopping list"): read_whatsapp(F/'whatsapp/not_whatsapp.txt')


def test_whatsapp_ambiguous_dates_and_bad_zip(tmp_path):
    p = tmp_path/'WhatsApp Chat with Bo.txt'
    p.write_text('3/4/24, 10:00 - Bo: hi\n3/4/24, 10:01 - Al: hey\n', encoding='utf-8')
    cs = read_whatsapp(p)
    assert cs[0].turns[0].time.month == 4 and cs.report.notes['ambiguous_date_order'] == 1 and cs[0].meta['me'] == 'Al'
    (tmp_path/'x.zip').write_bytes(b'PK\x03\x04 broken')
    with pytest.raises(ChatParseError, match='zip'): read_whatsapp(tmp_path/'x.zip')


# ---------------------------------------------------------------- Telegram
def test_telegram_single_chat():
    cs = balanced(read_telegram(F/'telegram/single_chat'))
    c = cs[0]
    assert (c.title, c.meta['me'], c.meta['type']) == ('Marta Ruiz', 'Owen Price', 'personal_chat')
    assert turns(c) == [('Marta Ruiz', 'hola! did you get the tickets?'), ('Owen Price', 'Yes, two seats, see https://example.org/t/8812')]
    assert c.turns[1].time == datetime.fromtimestamp(1678788220, timezone.utc) and c.turns[1].meta['reply_to_message_id'] == 101
    assert cs.report.skipped == Counter(media_only=1, service=1, forwarded=1, unsupported=1)
    assert cs.report.repaired == Counter(text_entities_joined=1)
    assert c.meta['events'][0]['kind'] == 'phone_call'
    kf = read_telegram(F/'telegram/single_chat', keep_forwarded=True)
    assert kf[0].turns[-1].speaker == 'Deleted Account user999000111' and kf.report.repaired['null_sender'] == 1


def test_telegram_full_export():
    cs = balanced(read_telegram(F/'telegram/full_export/result.json'))
    assert [c.title for c in cs] == ['Saved Messages', 'Climbing crew'] and cs[0].meta['me'] == 'Owen Price'
    assert turns(cs[1]) == [('Deleted Account user999000111', 'hi from a deleted account'), ('Owen Price', 'welcome!'), ('Marta Ruiz', 'no unixtime here')]
    assert cs.report.skipped == Counter(service=1, non_text=1, channel_chat=1)
    assert cs.report.repaired == Counter(null_sender=1, naive_date_only=1)
    assert [c.title for c in read_telegram(F/'telegram/full_export', chat=555)] == ['Climbing crew']


def test_telegram_broken_escapes():
    cs = balanced(read_telegram(F/'telegram/broken_escape'))
    assert turns(cs[0]) == [('Marta Ruiz', 'bell \x07 here'), ('Owen Price', 'page \x0c break')]
    assert cs.report.notes['telegram_x_escape'] == 4      # text and text_entities of two messages
    with pytest.raises(ChatParseError, match="not a Telegram export"): read_telegram(F/'training/alpaca.json')


# ---------------------------------------------------------------- WhisperX
EP = [('Host', "Welcome back, today I'm talking with a glaciologist."), ('Guest', 'Thanks for having me. In 1998 the ice was 40m thick.')]

@pytest.mark.parametrize('name', ['episode_017.json', 'episode_017.vtt', 'episode_017.srt', 'episode_017.txt', 'episode_017_nan.json'])
def test_whisperx_all_formats_give_the_same_episode(name):
    cs = balanced(read_whisperx(F/'whisperx'/name))
    c = cs[0]
    assert turns(c) == EP and c.meta['me'] == 'Host' and c.meta['host'] == 'SPEAKER_00' and c.meta['host_guest_ratio'] == 1.0
    assert all(t.time is None for t in c.turns)
    r = cs.report
    if name == 'episode_017.json':
        assert r.repaired == Counter(speaker_from_words=1) and r.skipped == Counter(asr_noise=1) and r.notes['word_no_speaker'] == 3
    if name == 'episode_017_nan.json':
        assert r.repaired == Counter(nan_time=2, speaker_inherited=1) and c.turns[1].meta['start'] == 3.412
    if name in ('episode_017.vtt', 'episode_017.srt'):
        assert r.read == 3 and c.turns[1].meta['start'] == 3.9
    if name == 'episode_017.txt': assert r.skipped == Counter(asr_noise=1)


def test_whisperx_host_choice_ratio_and_extras():
    cs = balanced(read_whisperx(F/'whisperx'/'episode_019_bad_diarisation.txt'))
    assert len(cs) == 0 and cs.report.skipped == Counter(host_talks_more=3)
    assert 'ratio 11.60 > 1.0' in cs.report.excluded[0][1]
    ok = read_whisperx(F/'whisperx'/'episode_019_bad_diarisation.txt', host='SPEAKER_01', host_name='Lex')
    assert ok[0].meta['me'] == 'Lex' and ok[0].meta['host_guest_ratio'] < 1
    assert len(read_whisperx(F/'whisperx'/'episode_019_bad_diarisation.txt', max_ratio=None)) == 1
    with pytest.raises(ChatParseError, match="host 'SPEAKER_07' does not speak"): read_whisperx(F/'whisperx/episode_017.vtt', host='SPEAKER_07')
    hl = balanced(read_whisperx(F/'whisperx'/'episode_018_highlight.vtt'))
    assert turns(hl[0]) == [('Host', 'So what got you into ice?'), ('Guest', 'A winter in Svalbard -> I never left.')]
    assert hl.report.skipped == Counter(duplicate_cue=1) and hl.report.repaired['subtitle_markup'] == 2
    with pytest.raises(ChatParseError, match='unsupported WhisperX version'): read_whisperx(F/'whisperx'/'old_v2.json')


def test_whisperx_three_speakers(tmp_path):
    p = tmp_path/'ep.txt'
    p.write_text('[SPEAKER_00]: hi\n[SPEAKER_01]: hello there, thanks\n[SPEAKER_02]: (ad) buy socks\n[SPEAKER_01]: anyway\n')
    a = balanced(read_whisperx(p))
    assert turns(a[0]) == [('Host', 'hi'), ('Guest', 'hello there, thanks (ad) buy socks anyway')] and a.report.notes['extra_speaker'] == 1
    b = balanced(read_whisperx(p, extra='skip'))
    assert turns(b[0]) == [('Host', 'hi'), ('Guest', 'hello there, thanks anyway')] and b.report.skipped['extra_speaker'] == 1


def test_conversation_json_roundtrip(tmp_path):
    lex = balanced(read_whisperx(F/'lex_style'))
    assert turns(lex[0]) == [('Lex', EP[0][1]), ('Guest', EP[1][1])] and lex[0].meta['me'] == 'Lex'
    assert lex.report.skipped == Counter(empty=1)
    out = write_conversation_json(lex[0], tmp_path/'e.json')
    obj = json.loads(out.read_text(encoding='utf-8'))
    assert obj == {'filename': 'episode_017.json', 'conversation': [{'from': 'Lex', 'text': EP[0][1]}, {'from': 'Guest', 'text': EP[1][1]}]}


# ---------------------------------------------------------------- training formats
def test_training_readers():
    sg = balanced(read_sharegpt(F/'training/sharegpt.jsonl'))
    assert [turns(c) for c in sg] == [[('user', 'Perfect, see you at the café at 7 ☕'), ('assistant', 'Does Thursday work?\nI can bring the maps.')],
                                      [('user', 'ping'), ('assistant', 'pong')]]
    assert sg[0].meta['system'].startswith('You are Jordan') and sg.report.skipped == Counter(unknown_role=2, system_prompt=1, tool=1)
    oa = balanced(read_openai(F/'training/openai.jsonl'))
    assert turns(oa[1]) == [('user', 'who has the shed key?'), ('assistant', 'me, under the blue pot')]
    assert oa[0].turns[1].meta == {'weight': 1} and oa.report.skipped == Counter(system_prompt=1, empty=1)
    al = balanced(read_alpaca(F/'training/alpaca.json'))
    assert turns(al[1]) == [('user', 'Say hi like Jordan.'), ('assistant', 'heyy')] and al.report.skipped == Counter(malformed=1)
    with pytest.raises(ChatParseError, match='not ShareGPT JSON'): read_sharegpt(F/'whatsapp/not_whatsapp.txt')


def test_writers_roundtrip_and_hygiene(tmp_path):
    cs = read_messenger(F/'meta_legacy')
    n = write_sharegpt(cs, tmp_path/'s.jsonl', system='You are Jordan.')
    assert n == 2
    back = read_sharegpt(tmp_path/'s.jsonl')
    assert turns(back[1]) == [('user', 'first, same millisecond 👍'), ('assistant', 'second, same millisecond\nDoes Thursday work?\nI can bring the maps.'),
                              ('user', 'Perfect, see you at the café at 7 ☕')]
    raw = (tmp_path/'s.jsonl').read_text(encoding='utf-8')
    assert '☕' in raw and 'NaN' not in raw
    c = Chat('x', ['a', 'b'], 'x', [Turn('a', 'lone \ud83d surrogate'), Turn('b', 'ok')], {'me': 'b'})
    write_openai([c], tmp_path/'o.jsonl')
    line = (tmp_path/'o.jsonl').read_bytes().decode('utf-8')        # strict UTF-8: no surrogates written
    assert json.loads(line)['messages'][0]['content'] == 'lone \ufffd surrogate'
    with pytest.raises(ValueError, match="has no meta"): write_openai([Chat('t', [], 'x', [Turn('a', 'b')])], tmp_path/'z.jsonl')


# ---------------------------------------------------------------- load_chats
def test_load_chats_detects_by_content(tmp_path):
    for rel, fmt in [('whatsapp/ios_bracketed/_chat.txt', 'whatsapp'), ('whisperx/episode_017.txt', 'whisperx'), ('telegram/single_chat/result.json', 'telegram'),
                     ('training/openai.jsonl', 'openai'), ('training/alpaca.json', 'alpaca'), ('meta_e2ee/Ana Kovač_12.json', 'messenger'),
                     ('whisperx/episode_017.srt', 'whisperx'), ('lex_style/episode_017.json', 'whisperx'), ('whatsapp/not_whatsapp.txt', None)]:
        q = tmp_path/f'renamed_{fmt}_{Path(rel).suffix[1:]}.dat'      # the name says nothing
        q.write_bytes((F/rel).read_bytes())
        assert detect_format(q) == fmt, rel
    with pytest.raises(ChatParseError, match='not a recognised chat export'): load_chats(F/'whatsapp/not_whatsapp.txt')
    with pytest.raises(TypeError, match='unknown arguments'): load_chats(F/'whatsapp', mee='x')


def test_load_chats_whole_corpus():
    with pytest.raises(ChatParseError): load_chats(F, me=JP)          # old_v2.json, HTML, corrupt JSON: stop by default
    cs = balanced(load_chats(F, me=JP, errors='skip'))
    ign = {Path(p).name: why for p, why in cs.report.ignored}
    assert ign['old_v2.json'].startswith('whisperx: unsupported') and ign['guanaco.jsonl'] == 'unrecognised_file'
    assert ign['message_1.html'] == 'html_export' and ign['not_whatsapp.txt'] == 'unrecognised_file'
    sources = Counter(c.meta.get('provenance') or Path(c.source).suffix for c in cs)
    assert sources['dyi'] == 12 and sources['e2ee'] == 2 and sources['.vtt'] == 3     # episode_017 is read once, from .json;
    # the 12th dyi and the 3rd .vtt: audit/messenger_theme_emoji, audit/vtt_voice_tags
    assert ign['message_1.json'].startswith('messenger: invalid JSON') and ign['episode_017.vtt'] == 'same episode as episode_017.json'
    assert cs.report.read == sum(f.read for f in cs.report.files.values())


# ---------------------------------------------------------------- shaping
def T(s, x, minute, day=1): return Turn(s, x, datetime(2024, 3, day, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=minute))

def test_pipe_join_sessions_pairs():
    c = Chat('Ana', ['Ana', 'Jordan'], 'x', [T('Ana', 'dude', 0), T('Ana', 'she said she wanted to "take a break"', 1), T('Jordan', 'LOL', 2),
             T('Jordan', "i'm not sure what to say to that", 3), T('Ana', 'thanks', 4), T('Ana', 'next day', 0, day=2), T('Jordan', 'morning', 1, day=2)], {'me': 'Jordan'})
    pj = pipe_join(c)
    assert [t.text for t in pj.turns][:2] == ['dude|she said she wanted to "take a break"', "LOL|i'm not sure what to say to that"]
    assert pj.turns[0].meta['n_messages'] == 2 and len(c.turns) == 7          # the input is not changed
    ss = split_sessions(c, gap=timedelta(hours=6))
    assert [len(s.turns) for s in ss] == [5, 2] and ss[1].title == 'Ana #2'
    ps = chat_pairs([c], me='Jordan', context=2)
    assert [(p['prompt'], p['response']) for p in ps] == [('dude|she said she wanted to "take a break"', "LOL|i'm not sure what to say to that"), ('next day', 'morning')]
    assert ps[1]['context'] == []                                              # new session: no context from yesterday
    ps2 = chat_pairs([c], me='Jordan', context=2, gap=None)
    assert ps2[1]['context'] == [{'role': 'user', 'text': 'dude|she said she wanted to "take a break"'}, {'role': 'assistant', 'text': "LOL|i'm not sure what to say to that"}]
    assert ps2[1]['prompt'] == 'thanks|next day'
    assert chat_pairs(c, me='Jordan', sep=' / ')[0]['response'] == "LOL / i'm not sure what to say to that"
    with pytest.raises(ValueError, match='group='): chat_pairs(c, group='x')


def test_pairs_from_real_readers():
    cs = read_messenger(F/'meta_legacy')
    ps = chat_pairs(cs, me=None)
    # 'Does Thursday work?' comes 16 h later: a new session (gap=12 h), where Jordan speaks first, so no pair
    assert [(p['chat'], p['prompt'], p['response']) for p in ps] == [(ANA, 'first, same millisecond 👍', 'second, same millisecond')]
    assert chat_pairs(cs, gap=None)[0]['response'] == 'second, same millisecond|Does Thursday work?\nI can bring the maps.'
    crew = read_messenger(F/'meta_2024', me='Mia Sørensen')
    g = next(c for c in crew if c.title.startswith('Climbing'))
    assert chat_pairs([g]) == [] and chat_pairs([g], me='Tomás Old')[0]['prompt'] == 'Mia Sørensen: Saturday 9am at the north wall?'
    ep = read_whisperx(F/'whisperx/episode_017.vtt')
    assert chat_pairs(ep, me='Guest')[0]['response'] == EP[1][1]


def test_redact_counts():
    cnt = Counter()
    s = redact('mail ana.k@example.org or call +1 (555) 123-4567, www.example.org/x. 2023-03-14 09:02, 1998, 40m', counts=cnt)
    assert s == 'mail <email> or call <phone>, <url>. 2023-03-14 09:02, 1998, 40m'
    assert cnt == Counter(email=1, phone=1, url=1)
    cs = read_telegram(F/'telegram/single_chat')
    rc = redact(cs)
    assert isinstance(rc, Chats) and rc[0].turns[1].text == 'Yes, two seats, see <url>' and rc[0].meta['redacted'] == {'url': 1}
    assert cs[0].turns[1].text.endswith('8812')                                  # the input is not changed
    with pytest.raises(ValueError, match='unknown kinds'): redact('x', kinds=('ssn',))


def test_report_renders():
    cs = read_messenger(F/'meta_legacy')
    md, txt = cs.report._repr_markdown_(), str(cs.report)
    assert '| skipped: unsent | 1 |' in md and '| file (3) | read | kept | skipped | repaired |' in md
    assert 'read_messenger report (balanced)' in txt and 'repaired: mojibake' in txt
    assert 'Chats(2 chats, 5 turns)' in repr(cs)


def test_sample_data():
    with pytest.raises(FileNotFoundError, match='no such sample data'): sample_data('definitely_missing')
    assert (sample_data('messenger')/'your_facebook_activity').is_dir()


def test_messenger_literal_backslash_u_and_lone_surrogate(tmp_path):
    "A typed '\\u2764' does not stop the mojibake repair; a lone surrogate escape becomes U+FFFD (counted)"
    d = tmp_path/'inbox'/'ana_1'; d.mkdir(parents=True)
    (d/'message_1.json').write_text(r'{"participants": [{"name": "Ana Kova\u00c4\u008d"}, {"name": "Jo"}], "messages": ['
                                    r'{"sender_name": "Jo", "timestamp_ms": 1700000002000, "content": "type \\u2764 for caf\u00c3\u00a9"},'
                                    r'{"sender_name": "Ana Kova\u00c4\u008d", "timestamp_ms": 1700000001000, "content": "half \ud83d emoji"}]}')
    cs = balanced(read_messenger(d, me='Jo'))
    assert turns(cs[0]) == [(ANA, 'half \ufffd emoji'), ('Jo', 'type \\u2764 for café')]
    assert cs.report.repaired == {'mojibake': 1, 'lone_surrogate': 1}


# ---------------------------------------------------------------- real exports in the wild (issue 11)
W = F/'wild'

def test_wild_corpus_says_where_each_variant_was_seen():
    readme = (W/'README.md').read_text(encoding='utf-8')
    files = sorted(p.relative_to(W).as_posix() for p in W.rglob('*') if p.is_file() and p.name != 'README.md')
    assert files and all(f"`{f}`: " in readme for f in files)


def test_v01_telegram_without_from_id_keeps_each_sender():
    cs = balanced(read_telegram(W/'telegram_no_from_id'))
    assert [t.speaker for t in cs[0].turns] == ['Marta Ruiz', 'Owen Price', 'Marta Ruiz', 'Owen Price']
    assert 'renamed_sender' not in cs.report.repaired and cs.report.repaired['naive_date_only'] == 3
    assert cs[0].meta['me'] == 'Owen Price'


def test_v02_messenger_2018_layout():
    cs = balanced(read_messenger(W/'messenger_2018'))
    assert [c.title for c in cs] == [ANA, 'Leo Brandt'] and cs.report.kept == 5 and not cs.report.skipped
    assert turns(cs[0])[-1] == (ANA, 'Perfect, see you at the café at 7 ☕')          # mojibake repaired
    assert all(c.meta['me'] == JP for c in cs) and not cs.report.warnings     # the one name in both threads
    assert cs[0].turns[0].time == datetime(2018, 8, 11, 15, 6, 40, tzinfo=timezone.utc)


NOTICE_ROWS = [(lang, reason, ex) for lang, rows in MESSENGER_NOTICES.items() for reason, _, ex in rows]

@pytest.mark.parametrize('lang,reason,example', NOTICE_ROWS, ids=[f"{l}-{e[:30]}" for l, _, e in NOTICE_ROWS])
def test_v03_notice_phrase(lang, reason, example):
    "One test per phrase of the notice table: as written, in Meta's mojibake, and with a trailing space"
    from finetune_kit.chats.messenger import notice_reason
    moji = example.encode('utf-8').decode('latin-1')
    assert notice_reason(example) == notice_reason(moji) == notice_reason(example.rstrip() + ' ') == reason


def test_v03_notice_languages_and_group_export():
    assert {'en', 'es', 'pt', 'fr', 'de', 'it'} <= set(MESSENGER_NOTICES)
    cs = balanced(read_messenger(W/'messenger_group_notices', me=JP))
    assert turns(cs[0]) == [(JP, 'Saturday 9am at the north wall?'), ('Leo Brandt', 'she reacted so weird to your message lol')]
    assert cs.report.skipped == Counter(pseudo_reaction=4)


def test_v04_load_chats_reads_each_whisperx_episode_once():
    cs = balanced(load_chats(W/'whisperx_all'))
    assert len(cs) == 1 and cs[0].source.endswith('interview_042.json')
    same = sorted(Path(p).suffix for p, why in cs.report.ignored if why == 'same episode as interview_042.json')
    assert same == ['.srt', '.tsv', '.txt', '.vtt'] and len(cs.report.ignored) == 4
    assert len(read_whisperx(W/'whisperx_all')) == 1


def test_v05_whisperx_tsv_is_read():
    p = W/'whisperx_all/interview_042.tsv'
    assert detect_format(p) == 'whisperx'
    cs = balanced(read_whisperx(p))
    assert cs.report.read == 3 and cs.report.skipped == Counter(not_diarised=3)       # TSV has no speakers
    assert 'run WhisperX with --diarize' in cs.report.excluded[0][1]
    from finetune_kit.chats.transcripts import _tsv_segments
    segs = _tsv_segments(p.read_text(encoding='utf-8'), p, FileStats())
    assert [(s['start'], s['end'], s['text']) for s in segs][1] == (4.5, 9.0, 'Thanks! Sea ice is thinner every year.')


def test_v06_thread_without_participants_and_unknown_messages_json():
    ig = W/'instagram_no_participants'
    f = next(ig.rglob('message_1.json'))
    assert detect_format(f) == 'instagram'        # its folder says Instagram (chats.instagram)
    cs = balanced(load_chats(ig))
    assert turns(cs[0]) == [('lena.novak', 'good luck tomorrow'), ('sam.rivera', 'race day!! 🏃')]
    assert cs.report.skipped == Counter(pseudo_reaction=1) and cs[0].meta['me'] == 'sam.rivera'
    other = W/'not_a_chat/messages.json'
    assert detect_format(other) is None
    with pytest.raises(ChatParseError, match='not a recognised chat export; expected'): load_chats(other)
    with pytest.raises(ChatParseError, match="none of Telegram's keys"): read_telegram(other)
    with pytest.raises(ChatParseError, match='not a Messenger thread'): read_messenger(other)


def test_v07_seconds_in_timestamp_ms():
    cs = balanced(read_messenger(W/'messenger_seconds_in_ms', me=JP))
    assert cs.report.repaired['timestamp_seconds'] == 2 and cs.report.kept == 2
    assert cs[0].turns[0].time == datetime(2018, 4, 24, 8, 20, tzinfo=timezone.utc)


def test_v08_not_diarised_transcripts_say_so():
    cs = balanced(read_whisperx(W/'whisperx_no_diarize'))
    assert len(cs) == 0 and cs.report.skipped == Counter(not_diarised=4)
    why = dict(cs.report.excluded)
    assert why['talk.json'].startswith('no speaker labels: not diarised') and '--diarize' in why['talk.json']
    assert why['monologue.txt'].startswith('one speaker label only (SPEAKER_00)')
    assert 'host_talks_more' not in cs.report.skipped


def test_v09_two_telegram_exports_in_one_folder():
    cs = balanced(read_telegram(W/'telegram_two_exports'))
    assert sorted(c.title for c in cs) == ['Climbing crew', 'Marta Ruiz']
    assert len(load_chats(W/'telegram_two_exports')) == 2


def test_v09_whatsapp_zip_with_two_chats():
    for cs in (read_whatsapp(W/'whatsapp_two_chats.zip'), load_chats(W/'whatsapp_two_chats.zip')):
        balanced(cs)
        assert sorted(c.title for c in cs) == ['Bo', 'Dana'] and all(c.meta['me'] == 'Sam' for c in cs)
        assert sorted(why for _, why in cs.report.ignored) == ['macos_metadata', 'zip_member_not_a_chat']


def test_v09_load_chats_reads_messenger_files_by_content_beside_whatsapp():
    cs = balanced(load_chats(W/'mixed_names', me=JP))
    assert sorted(c.title for c in cs) == ['Alice Moreau', ANA, 'Bo'] and not cs.report.ignored
    assert len(read_messenger(W/'mixed_names', me=JP)) == 2


def test_v09_vtt_cues_without_milliseconds_are_counted():
    cs = balanced(read_whisperx(W/'vtt_no_ms/talk.vtt'))
    assert cs.report.read == 2 and turns(cs[0]) == [('Host', 'Welcome back.'), ('Guest', 'Thanks, glad to be here.')]
    assert cs[0].turns[1].meta['start'] == 4.0


def test_v09_telegram_chat_name_typo():
    with pytest.raises(ChatParseError, match=r"no chat named 'Climbing crw'.*Chats in this export: 'Climbing crew'"):
        read_telegram(F/'telegram/full_export', chat='Climbing crw')
    cs = read_telegram(F/'telegram/full_export', chat='Climbing crw', errors='skip')
    assert len(cs) == 0 and "no chat named 'Climbing crw'" in cs.report.warnings[-1]


def test_v09_chat_pairs_accounts_for_every_message_of_me():
    cs = read_messenger(sample_data('messenger'))
    ps = chat_pairs(cs)
    mine = sum(t.speaker == 'Sam Rivera' for c in cs for t in c.turns)
    assert ps.report.read == mine == 1452 and ps.report.balanced
    assert ps.report.kept + ps.report.skipped['opens_session'] == mine and ps.report.skipped['opens_session'] > 0
    short = chat_pairs(cs, min_chars=10 ** 6)
    assert short == [] and short.report.skipped['too_short'] + short.report.skipped['opens_session'] == mine


def test_v09_openai_weight_zero_is_not_trained():
    from transformers import AutoTokenizer
    from finetune_kit.models import default_checkpoint
    from finetune_kit.tokens import tokenize_chats
    tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
    c = Chat('w', ['user', 'assistant'], 'x', [Turn('user', 'hi'), Turn('assistant', 'NOPE NOPE', None, {'weight': 0}),
                                               Turn('user', 'again'), Turn('assistant', 'yes yes', None, {'weight': 1})],
             {'me': 'assistant'})
    row = tokenize_chats([c], tok, max_len=256)[0]
    trained = tok.decode([i for i, l in zip(row['input_ids'], row['labels']) if l != -100])
    assert 'yes yes' in trained and 'NOPE' not in trained
    plain = tokenize_chats([Chat('w', [], 'x', [replace(t, meta={}) for t in c.turns], {'me': 'assistant'})], tok, max_len=256)[0]
    assert 'NOPE' in tok.decode([i for i, l in zip(plain['input_ids'], plain['labels']) if l != -100])


def _encodable(*texts):
    for t in texts: t.encode('utf-8')          # strict: a lone surrogate raises UnicodeEncodeError


def test_v10_non_utf8_file_names_make_printable_titles(tmp_path):
    d = bytes(tmp_path) + b'/exports'
    os.makedirs(d)
    with open(d + b'/WhatsApp Chat with Al\xe9x.txt', 'wb') as f: f.write(b'14/03/2023, 09:02 - Al\xc3\xa9x: hi\n14/03/2023, 09:03 - Sam: hey\n')
    class Cp1252Name(zipfile.ZipInfo):                # what a Windows zip tool writes: cp1252 bytes, no UTF-8 flag
        def _encodeFilenameFlags(self): return b'WhatsApp Chat with Jos\xe9.txt', self.flag_bits
    zi = Cp1252Name('x', date_time=(2023, 3, 14, 9, 0, 0))
    with open(d + b'/chats.zip', 'wb') as f, zipfile.ZipFile(f, 'w') as z:
        z.writestr(zi, '14/03/2023, 09:02 - José: hola\n14/03/2023, 09:03 - Sam: hey\n')
    cs = balanced(read_whatsapp(os.fsdecode(d)))
    assert sorted(c.title for c in cs) == ['Aléx', 'José']
    _encodable(str(cs.report), cs.report._repr_markdown_(), repr(cs), *(c.title + c.source for c in cs))
    _encodable(*(k for k in cs.report.files), *(p for p, _ in cs.report.ignored))
    out = tmp_path/'s.jsonl'
    assert write_sharegpt(cs, out) == 2 and out.stat().st_size > 0
    assert [o['id'].split('#')[0] for o in map(json.loads, out.read_text(encoding='utf-8').splitlines())] == ['Aléx', 'José']
    from transformers import AutoTokenizer
    from finetune_kit.models import default_checkpoint
    from finetune_kit.tokens import tokenize_chats
    assert len(tokenize_chats(cs, AutoTokenizer.from_pretrained(default_checkpoint(quiet=True)), max_len=64)) == 2


def test_v10_deep_nesting_is_a_parse_error(tmp_path):
    deep = '{"messages": [{"role": "user", "content": ' + '[' * 100_000 + ']' * 100_000 + '}]}'
    (tmp_path/'deep.json').write_text(deep)
    (tmp_path/'deep.jsonl').write_text('{"messages": []}\n' + deep + '\n')
    for p in (tmp_path/'deep.json', tmp_path/'deep.jsonl'):
        with pytest.raises(ChatParseError, match='nested too deeply'): read_openai(p)
        assert detect_format(p) == 'openai'
    cs = load_chats(tmp_path, errors='skip')
    assert len(cs) == 0 and all('nested too deeply' in why for _, why in cs.report.ignored)


def test_v10_utf16_files_are_recognised(tmp_path):
    p = W/'utf16/WhatsApp Chat with Dana.txt'
    assert p.read_bytes()[:2] == b'\xff\xfe' and detect_format(p) == 'whatsapp'
    cs = balanced(load_chats(W/'utf16'))
    assert turns(cs[0]) == [('Dana', 'are we still on?'), ('Sam', 'yes!')]
    (tmp_path/'t.json').write_text((F/'telegram/single_chat/result.json').read_text(encoding='utf-8'), encoding='utf-16')
    assert detect_format(tmp_path/'t.json') == 'telegram' and len(load_chats(tmp_path/'t.json')) == 1


def _lying_zip(path, declared):
    "A zip whose member declares `declared` bytes unzipped (a zip bomb's header) but holds a few"
    with zipfile.ZipFile(path, 'w') as z: z.writestr('WhatsApp Chat with Dana.txt', '3/14/23, 9:02 AM - Dana: hi\n')
    raw = bytearray(path.read_bytes())
    for sig, off in ((b'PK\x03\x04', 22), (b'PK\x01\x02', 24)):          # local header and central directory
        i = raw.index(sig)
        raw[i + off:i + off + 4] = declared.to_bytes(4, 'little')
    path.write_bytes(bytes(raw))


def test_v10_zip_bomb_is_refused_before_reading(tmp_path):
    _lying_zip(tmp_path/'bomb.zip', 1_500_000_000)
    with pytest.raises(ChatParseError, match=r'declares 1,500,000,000 bytes unzipped, over 268,435,456'): read_whatsapp(tmp_path/'bomb.zip')
    cs = load_chats(tmp_path, errors='skip')
    assert len(cs) == 0 and 'declares 1,500,000,000 bytes' in cs.report.ignored[0][1]
    with zipfile.ZipFile(tmp_path/'big.zip', 'w', zipfile.ZIP_DEFLATED) as z:       # honest but over a small limit
        z.writestr('WhatsApp Chat with Bo.txt', '3/14/23, 9:02 AM - Bo: hi\n' * 1000)
    with pytest.raises(ChatParseError, match='over 10,000'): load_chats(tmp_path/'big.zip', max_unzipped=10_000)
    assert len(load_chats(tmp_path/'big.zip')[0].turns) == 1000


def test_v11_one_me_rule_for_every_reader(tmp_path):
    thread = F/'meta_legacy/messages/inbox/anakovac_5839201746582931'
    assert read_messenger(thread)[0].meta['me'] == JP                            # 1:1: the other participant
    assert read_whatsapp(F/'whatsapp/android_12h_us')[0].meta['me'] == 'Sam'
    assert read_telegram(F/'telegram/single_chat')[0].meta['me'] == 'Owen Price'
    for group in (read_messenger(F/'meta_2024/your_facebook_activity/messages/inbox'),
                  read_whatsapp(F/'whatsapp/android_24h_dmy')):                  # groups: unknown, a warning, no error
        assert group[0].meta['me'] is None and "pass me='Your Name'" in group.report.warnings[-1]
    for read, p in [(read_messenger, thread), (read_whatsapp, F/'whatsapp/android_12h_us'), (read_telegram, F/'telegram/single_chat')]:
        with pytest.raises(ChatParseError, match="me='Jordn' is not a participant of any"): read(p, me='Jordn')
        cs = read(p, me='Jordn', errors='skip')
        assert cs[0].meta['me'] == 'Jordn' and any('not a participant of any' in w for w in cs.report.warnings)
    with pytest.raises(ChatParseError, match="me='Jordn' is in none of"): load_chats(F/'meta_legacy', me='Jordn')
    cs = load_chats(F/'meta_legacy', me='Jordn', errors='skip')
    assert len(cs) == 2 and any("is in none of" in w for w in cs.report.warnings)
    with pytest.raises(ValueError, match="has no meta"): chat_pairs(read_whatsapp(F/'whatsapp/android_24h_dmy'))


# ---------------------------------------------------------------- every file accounted for
def _mixed_folder(root):
    "The whole fixture corpus, plus media folders, hidden files, broken files and links, and unreadable entries"
    import shutil
    shutil.copytree(F, root/'exports')
    shutil.copytree(HERE/'fixtures'/'social'/'discord', root/'exports'/'discord')      # chats.discord's corpus
    for rel in ['exports/whatsapp/android_24h_dmy/media/IMG-0001.jpg', 'exports/meta_legacy/messages/inbox/photos/1.jpg',
                'exports/telegram/single_chat/video_files/v.mp4', 'exports/.DS_Store',
                'exports/meta_legacy/messages/inbox/anakovac_5839201746582931/._message_1.json', 'exports/.git/config']:
        (root/rel).parent.mkdir(parents=True, exist_ok=True)
        (root/rel).write_bytes(b'\x00\x01binary')
    (root/'exports/broken/result.json').parent.mkdir()
    (root/'exports/broken/result.json').write_text((F/'telegram/single_chat/result.json').read_text(encoding='utf-8')[:700])
    (root/'exports/broken/empty.txt').write_text('')
    (root/'exports/links').mkdir()
    (root/'exports/links/loop').symlink_to(root/'exports')                    # a link back up: a loop
    (root/'exports/links/gone.json').symlink_to(root/'nowhere.json')          # a dangling link
    (root/'exports/links/self.txt').symlink_to(root/'exports/links/self.txt') # a link to itself
    (root/'exports/links/dana.txt').symlink_to(F/'whatsapp/android_12h_us/WhatsApp Chat with Dana.txt')
    os.mkfifo(root/'exports/links/pipe')
    (root/'exports/locked').mkdir()
    (root/'exports/locked/secret.txt').write_text('14/03/2023, 09:02 - Bo: hi\n')
    (root/'exports/unreadable.json').write_text((F/'telegram/single_chat/result.json').read_text(encoding='utf-8'))
    return root/'exports'


def _covered(path:str, report)->bool:
    if any(k == path or k.startswith(path + '#') or k.startswith(path + '!') for k in report.files): return True
    return any(path == p or path.startswith(p.rstrip('/') + '/') or p.startswith(path + '!') for p, _ in report.ignored)


def test_every_file_under_a_mixed_folder_is_read_or_listed(tmp_path, monkeypatch):
    root = _mixed_folder(tmp_path)
    locked, unreadable = root/'locked', root/'unreadable.json'
    if os.geteuid() == 0:                    # root reads anything: make the system refuse these two instead
        real_scandir, real_read = os.scandir, Path.read_bytes
        def scandir(p='.'):
            if Path(p) == locked: raise PermissionError(13, 'Permission denied', str(p))
            return real_scandir(p)
        def read_bytes(self):
            if self == unreadable: raise PermissionError(13, 'Permission denied', str(self))
            return real_read(self)
        monkeypatch.setattr(os, 'scandir', scandir)
        monkeypatch.setattr(Path, 'read_bytes', read_bytes)
    else:
        locked.chmod(0)
        unreadable.chmod(0)
    try:
        with pytest.raises(ChatParseError): load_chats(root, me=JP)               # broken files stop the default read
        cs = balanced(load_chats(root, me=JP, errors='skip'))
    finally:
        for p in (locked, unreadable): p.chmod(0o755)
    r = cs.report
    for f in r.files.values(): assert f.read == f.kept + sum(f.skipped.values())  # kept + skipped == read, per file
    entries = []
    for d, dirs, files in os.walk(root):
        entries += [os.path.join(d, x) for x in files] + [os.path.join(d, x) for x in dirs if os.path.islink(os.path.join(d, x))]
    missing = [e for e in entries if not _covered(e, r)]
    assert not missing, missing[:5]
    why = {Path(p).relative_to(root).as_posix(): w for p, w in r.ignored}
    assert why['links/loop'] == 'symlink_loop' and why['links/gone.json'] == 'dangling_link'
    assert why['links/self.txt'].startswith('broken_link') and why['links/pipe'] == 'not_a_regular_file'
    assert why['locked'].startswith('unreadable_folder') and 'unreadable' in why['unreadable.json']
    assert why['.DS_Store'] == why['.git'] == 'hidden' and why['whatsapp/android_24h_dmy/media'] == 'media_folder'
    assert why['broken/result.json'].startswith('telegram: invalid JSON') and why['broken/empty.txt'] == 'unrecognised_file'
    assert any(Path(c.source).name == 'dana.txt' for c in cs)                  # a link to a file is read
    assert Counter(c.meta['format'] for c in cs).keys() == set(FORMATS)          # every format was in the folder
    text = str(r)
    assert 'ignored (symlink_loop): 1' in text and 'ignored (media_folder)' in text


def test_public_api_unchanged_by_the_package_split():
    import finetune_kit.chats as pkg
    before = ['Turn', 'Chat', 'ChatParseError', 'FileStats', 'Report', 'Chats', 'fix_mojibake', 'read_messenger', 'read_whatsapp',
              'read_telegram', 'read_whisperx', 'write_conversation_json', 'read_sharegpt', 'read_openai', 'read_alpaca',
              'write_sharegpt', 'write_openai', 'detect_format', 'load_chats', 'pipe_join', 'split_sessions', 'chat_pairs',
              'redact', 'sample_data']                                        # finetune_kit.chats.__all__ before the split
    assert set(before) <= set(pkg.__all__) and all(hasattr(pkg, n) for n in pkg.__all__)
    subs = ['core', 'messenger', 'whatsapp', 'telegram', 'transcripts', 'formats', 'load', 'shaping', 'discord', 'instagram']
    for n in pkg.__all__: assert any(n in getattr(pkg, s).__all__ for s in subs), n
    assert sample_data() == Path(pkg.__file__).parent.parent/'sample_data'


def test_a_folder_without_chats_says_so(tmp_path):
    (tmp_path/'notes.txt').write_text('Shopping list: eggs, milk\n')
    (tmp_path/'photos').mkdir()
    with pytest.raises(ChatParseError, match='no recognised chat export in this folder.*2 entries were ignored'): load_chats(tmp_path)
    cs = load_chats(tmp_path, errors='skip')
    assert len(cs) == 0 and sorted(why for _, why in cs.report.ignored) == ['media_folder', 'unrecognised_file']
    os.mkfifo(tmp_path/'pipe')
    for read in (load_chats, read_whatsapp, read_messenger):
        with pytest.raises(ChatParseError, match='not a regular file or folder'): read(tmp_path/'pipe')


def test_a_zip_cut_short_is_said_everywhere(tmp_path):
    "A partial download of an export zip: named as a damaged zip (file, folder, load_chats), never read as text"
    import zipfile
    good = tmp_path/'good'
    good.mkdir()
    (good/'WhatsApp Chat with Ana.txt').write_text('14/03/2023, 09:02 - Ana: hi\n14/03/2023, 09:03 - Sam: hey\n')
    with zipfile.ZipFile(tmp_path/'whole.zip', 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('WhatsApp Chat with Bo.txt', '14/03/2023, 09:02 - Bo: yo\n' * 300)
    raw = (tmp_path/'whole.zip').read_bytes()
    cut = good/'WhatsApp Chat with Bo.zip'
    cut.write_bytes(raw[:len(raw) // 2])
    for read in (read_whatsapp, load_chats):
        with pytest.raises(ChatParseError, match=r'WhatsApp Chat with Bo\.zip: a damaged zip .*cut short'):
            read(cut, me='Sam')
        cs = read(good, me='Sam')
        assert [c.title for c in cs] == ['Ana'] and cs.report.balanced
        (where, why), = cs.report.ignored
        assert where.endswith('WhatsApp Chat with Bo.zip') and why.startswith('damaged_zip: a damaged zip'), why
    only = tmp_path/'only'
    only.mkdir()
    cut.rename(only/'WhatsApp Chat with Bo.zip')
    with pytest.raises(ChatParseError, match=r'ignored.*WhatsApp Chat with Bo\.zip \(damaged_zip'):
        load_chats(only, me='Sam')
