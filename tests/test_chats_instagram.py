"Instagram DMs: every variant of tests/fixtures/social/instagram, Instagram told apart from Messenger, accounting, errors."
import json, shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
import pytest
import finetune_kit.chats.core as core
from finetune_kit.chats import *
from chat_checks import turns, balanced

HERE = Path(__file__).parent
I = HERE/'fixtures'/'social'/'instagram'
F = HERE/'fixtures'/'chats'
MR, OP = 'Marta Ruiz', 'Owen Price'




# ---------------------------------------------------------------- the three layouts
def test_2024_download_two_files_mojibake_and_instagram_notices():
    cs = balanced(read_instagram(I/'ig_2024'))
    c = cs[0]
    assert (c.title, c.meta['me'], c.meta['app']) == (MR, OP, 'instagram')
    assert turns(c) == [(OP, 'hola! are you the Marta from the bouldering comp? 😄'), (MR, 'sí! that’s me — café after?'),
                        (OP, 'haha that wall is brutal'),                     # a reply to a story: text, kept
                        (MR, 'see you at 7 then 💪')]
    assert c.turns[-1].meta == {'reactions': ['❤️']} and c.turns[0].time == datetime(2024, 10, 29, 16, 36, 40, tzinfo=timezone.utc)
    rows = {Path(k).name: f for k, f in cs.report.files.items()}
    assert rows['message_1.json'].skipped == Counter(call=3, pseudo_reaction=2, poll=2, media=1, attachment_placeholder=1,
                                                     story_share=1, story_notice=1)
    assert rows['message_2.json'].skipped == Counter(unsent=1)
    assert cs.report.repaired == Counter(mojibake=4) and not cs.report.warnings
    assert [e['text'] for e in c.meta['events']] == ['You missed an audio call', 'Video chat ended',
                                                     'Marta started a video chat']


def test_2022_layout_is_told_apart_by_its_content():
    f = next((I/'ig_2022').rglob('message_1.json'))
    assert meta_app(f) == 'instagram' and detect_format(f) == 'instagram'       # share.original_content_owner
    cs = balanced(read_instagram(I/'ig_2022', me=OP))
    assert turns(cs[0]) == [('Leo Brandt', 'did you see this?'), (OP, "no way, that's the crag we went to")]
    assert cs.report.skipped == Counter(attachment_placeholder=1, pseudo_reaction=1)


def test_2020_messages_json_one_row_per_conversation():
    f = I/'ig_2020/messages.json'
    assert detect_format(f) == 'instagram' and detect_format(I/'ig_2020/profile.json') is None
    cs = balanced(read_instagram(I/'ig_2020'))
    assert [(c.title, c.meta['me']) for c in cs] == [('marta.climbs', 'owen.price'), ('leo.brandt, marta.climbs', 'owen.price')]
    assert turns(cs[0]) == [('marta.climbs', 'are you going to the comp?'), ('owen.price', 'yes! signed up yesterday')]
    assert cs[0].turns[1].meta == {'likes': 1}
    assert turns(cs[1]) == [('leo.brandt', 'crag trip next weekend?'), ('marta.climbs', 'this is the one I told you about')]
    r = {k.rsplit('#', 1)[1]: v for k, v in cs.report.files.items()}
    assert r['[0]'].skipped == Counter(media=1, bare_url=1, share_only=1) and r['[1]'].skipped == Counter(sticker=1, call=1)
    assert [(Path(p).name, why) for p, why in cs.report.ignored] == [('profile.json', 'not_instagram')]
    assert read_instagram(f, drop_urls=False).report.kept == 5


# ---------------------------------------------------------------- Instagram or Messenger
def test_a_thread_that_says_nothing_is_messenger_to_load_chats_and_instagram_when_asked():
    f = I/'unmarked/messages/inbox/martaruiz_99/message_1.json'
    assert meta_app(f) is None and detect_format(f) == 'messenger'
    fb = balanced(load_chats(I/'unmarked'))
    assert fb.report.kept == 2                                                  # Messenger keeps 'shared a story.'
    assert fb.report.notes == Counter(assumed_messenger=1)                      # and its report says what it assumed
    ig = balanced(read_instagram(I/'unmarked'))
    assert turns(ig[0]) == [(OP, 'ok, 6pm at the wall')] and ig.report.skipped == Counter(story_share=1)
    assert ig.report.notes == Counter(assumed_instagram=1)
    assert any('nothing that says Instagram or Facebook; read as Instagram' in w for w in ig.report.warnings)


def test_mixed_instagram_and_facebook_downloads(tmp_path):
    shutil.copytree(I, tmp_path/'ig')
    shutil.copytree(F/'meta_2024', tmp_path/'fb')                               # Facebook's 2024 layouts
    cs = balanced(load_chats(tmp_path, me=[OP, 'owen.price', 'Jordan Pike']))
    assert Counter(c.meta.get('app', 'messenger') for c in cs) == Counter(instagram=4, messenger=3)   # unmarked/: Messenger
    for p in tmp_path.rglob('*.json'):
        assert detect_format(p) == ('messenger' if 'fb' in p.parts or 'unmarked' in p.parts else
                                    None if p.name == 'profile.json' else 'instagram'), p
    only = read_instagram(tmp_path, me=[OP, 'owen.price'])
    fb = [why for p, why in only.report.ignored if '/fb/' in p]
    assert fb and set(fb) == {'facebook_download: read it with read_messenger'}
    assert len(read_messenger(tmp_path/'fb', me='Jordan Pike')) == len(read_messenger(F/'meta_2024', me='Jordan Pike'))


def test_meta_app_by_folders():
    assert meta_app(Path('x/instagram-owen.price-2025-06-13-YOudpLi7/messages/inbox/a_1/message_1.json'), '') == 'instagram'
    assert meta_app(Path('x/your_instagram_activity/messages/inbox/a_1/message_1.json'), '') == 'instagram'
    assert meta_app(Path('facebook-owen-2024-01-01-abc/your_facebook_activity/messages/inbox/a/message_1.json'), '') \
        == 'facebook'
    assert meta_app(Path('your_activity_across_facebook/messages/inbox/a/message_1.json'), '') == 'facebook'
    assert meta_app(Path('messages/inbox/a/message_1.json'), '{"uri": "your_instagram_activity/messages/x.jpg"}') \
        == 'instagram'


@pytest.mark.parametrize('lang, reason, pattern, example', [(l, why, pat, ex) for l, rows in INSTAGRAM_NOTICES.items()
                                                            for why, pat, ex in rows])
def test_each_notice_phrase(lang, reason, pattern, example, tmp_path):
    assert instagram_notice(example) == reason
    if not pattern.endswith('.+'): assert instagram_notice(f"{example} and more") is None   # the whole text only
    d = tmp_path/'your_instagram_activity/messages/inbox/a_1'
    d.mkdir(parents=True)
    msgs = [{'sender_name': MR, 'timestamp_ms': 1700000000000, 'content': example},
            {'sender_name': OP, 'timestamp_ms': 1700000001000, 'content': 'ok'}]
    (d/'message_1.json').write_text(json.dumps({'participants': [{'name': MR}, {'name': OP}], 'messages': msgs}))
    cs = balanced(load_chats(tmp_path))
    assert cs.report.skipped == Counter({reason: 1}) and cs.report.kept == 1


# ---------------------------------------------------------------- broken input
def test_broken_files_name_the_file_and_the_place(tmp_path):
    d = tmp_path/'your_instagram_activity/messages/inbox/a_1'
    d.mkdir(parents=True)
    (d/'message_1.json').write_text((next((I/'ig_2024').rglob('message_1.json')).read_text())[:900])
    with pytest.raises(ChatParseError, match=r'message_1\.json, line \d+ column \d+ .*invalid JSON'):
        read_instagram(tmp_path)
    cs = read_instagram(tmp_path, errors='skip')
    assert len(cs) == 0 and cs.report.ignored[0][1].startswith('instagram: invalid JSON')
    old = tmp_path/'old'
    old.mkdir()
    (old/'messages.json').write_text(json.dumps([{'participants': ['a'], 'conversation': []}, 'junk']))
    with pytest.raises(ChatParseError, match=r"messages\.json, item 1: not an Instagram conversation"):
        read_instagram(old/'messages.json')
    (old/'messages.json').write_text('[{"participants": ["a"], "conversation": [{"sender": "a", "created_at": "2019-')
    with pytest.raises(ChatParseError, match=r"messages\.json, line 1 column"): read_instagram(old/'messages.json')


def test_html_download_and_empty_folder(tmp_path):
    d = tmp_path/'your_instagram_activity/messages/inbox/a_1'
    d.mkdir(parents=True)
    (d/'message_1.html').write_text('<html></html>')
    with pytest.raises(ChatParseError, match='this download is HTML.*Format: JSON'): read_instagram(tmp_path)
    (tmp_path/'x').mkdir()
    (tmp_path/'x/notes.txt').write_text('hello')
    with pytest.raises(ChatParseError, match="no Instagram thread files in this folder; expected Instagram's JSON"):
        read_instagram(tmp_path/'x')


@pytest.mark.skipif(core._orjson is None, reason='orjson is not installed')
def test_orjson_and_json_read_the_same(monkeypatch):
    "parse_json takes orjson when installed; every fixture reads the same without it"
    def read_all():
        out = []
        for d in [*sorted(I.iterdir()), *sorted((HERE/'fixtures'/'social'/'discord').iterdir())]:
            cs = load_chats(d, errors='skip')
            out.append(([turns(c) for c in cs], cs.report.skipped, cs.report.repaired, cs.report.notes))
        return out
    fast = read_all()
    monkeypatch.setattr(core, '_orjson', None)
    assert read_all() == fast
    assert core.parse_json('{"t": "\\ud83d"}', 'x.json') == {'t': '\ud83d'}      # json decides what orjson refuses
