"Discord (DiscordChatExporter JSON and CSV): every variant of tests/fixtures/social/discord, the accounting, detection, errors."
import json, shutil, subprocess, sys
from collections import Counter
from datetime import datetime, timezone, timedelta
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from finetune_kit.chats import *
from chat_checks import turns, balanced

HERE = Path(__file__).parent
S = HERE/'fixtures'/'social'
D = S/'discord'
UTC = timezone.utc




# ---------------------------------------------------------------- the fixture corpus
def test_fixtures_are_generated_by_the_script(tmp_path):
    "The committed corpus is byte-identical to what make_social_fixtures.py writes"
    subprocess.run([sys.executable, str(HERE/'fixtures'/'make_social_fixtures.py'), str(tmp_path)], check=True)
    new = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*') if p.is_file())
    old = sorted(p.relative_to(S) for p in S.rglob('*') if p.is_file())
    assert new == old
    for rel in new: assert (tmp_path/rel).read_bytes() == (S/rel).read_bytes(), rel


def test_every_fixture_says_where_its_variant_was_seen():
    readme = (S/'README.md').read_text(encoding='utf-8')
    for p in S.rglob('*'):
        if p.is_file() and p.name != 'README.md':
            line = next((l for l in readme.splitlines() if f"`{p.relative_to(S).as_posix()}`" in l), '')
            assert len(line) > 60, p


# ---------------------------------------------------------------- JSON variants
def test_dm_2025_reply_edit_reaction_call_pin_forward_and_media():
    cs = balanced(read_discord(D/'dm_2025'))
    c = cs[0]
    assert (c.title, c.meta['type'], c.meta['me']) == ('Marta', 'DirectTextChat', 'owen.price')   # the DM names the other
    assert turns(c) == [('marta.ruiz', 'hey! are you coming to the climbing gym tonight?'), ('owen.price', 'yes, 7pm 🧗'),
                        ('owen.price', 'see you there, bringing the new shoes'), ('marta.ruiz', 'ok!! 🎉')]
    assert c.turns[0].time == datetime(2025, 10, 31, 1, 2, 5, 221000, tzinfo=UTC)     # -08:00 applied
    assert c.turns[1].meta == {'id': '1200000000000000002', 'reply_to': '1200000000000000001'}
    assert c.turns[2].meta['edited'] is True and c.turns[3].meta['reactions'] == ['❤️']
    r = cs.report
    assert (r.read, r.kept) == (10, 4)
    assert r.skipped == Counter(attachment_only=1, sticker=1, bare_url=1, call=1, system=1, forwarded=1)
    assert r.notes == Counter(edited=1)
    assert [e['kind'] for e in c.meta['events']] == ['Call', 'ChannelPinnedMessage']
    assert c.meta['nicknames'] == {'marta.ruiz': 'Marta', 'owen.price': 'Owen'}
    assert read_discord(D/'dm_2025', drop_urls=False).report.kept == 5


def test_guild_partitions_and_a_repeat_make_one_channel():
    cs = balanced(read_discord(D/'guild_2024', me='leo.brandt'))
    assert len(cs) == 1 and cs[0].title == 'Climbing Club - text - general'
    assert turns(cs[0]) == [('leo.brandt', 'hi all, new here. anyone up for bouldering saturday?'),
                            ('marta.ruiz', '@Leo welcome! yes, 10am at the usual spot'),   # a mention, as a name
                            ('Tomás#4821', 'count me in'),                                 # a pre-2023 account
                            ('Deleted User', 'anyone have a spare harness?'),
                            ('leo.brandt', 'thanks everyone, see you saturday!')]
    rows = {Path(k).name: f for k, f in cs.report.files.items()}
    assert rows['Climbing Club - text - general [1100000000000000001].json'].skipped == \
        Counter(system=1, bot=1, app_command=1)
    assert rows['Climbing Club - text - general [1100000000000000001] [part 2].json'].skipped == \
        Counter(system=2, attachment_only=1)                   # a thread's creation, a boost ('8'), a photo
    assert rows['Climbing Club - text - general [1100000000000000001] (2024-03-09 to 2024-03-10).json'].skipped == \
        Counter(duplicate=1)                                   # read in the first file already
    assert cs[0].meta['nicknames'] == {'leo.brandt': 'Leo', 'marta.ruiz': 'Marta R'}
    assert 'RouteBot' not in cs[0].participants and cs[0].source.endswith('guild_2024')
    bots = balanced(read_discord(D/'guild_2024', me='leo.brandt', keep_bots=True))
    assert ('RouteBot', '📅 Saturday session: 10:00, 4 going') in turns(bots[0])
    assert bots.report.skipped['app_command'] == 1          # an app's answer to a command is never dialogue


def test_guild_without_me_warns_and_lists_candidates():
    cs = read_discord(D/'guild_2024')
    assert cs[0].meta['me'] is None and any('could not tell which participant is you' in w for w in cs.report.warnings)
    with pytest.raises(ChatParseError, match="me='Leo' is not a participant.*Names seen most: leo.brandt"):
        read_discord(D/'guild_2024', me='Leo')


def test_legacy_numeric_types_and_discriminators():
    cs = balanced(read_discord(D/'legacy', me='Ana#0042'))
    assert [c.title for c in cs] == ['Old Crew - general', 'Old Crew - general - trip planning']
    assert turns(cs[0]) == [('Jo#7777', 'hey Ana, still climbing on fridays?'), ('Ana#0042', 'every week! come along')]
    assert turns(cs[1])[1] == ('Jo#7777', "I'm in, I'll book the gîte") and cs[1].meta['category'] == 'general'
    assert cs.report.skipped == Counter(system=2, call=1)    # GuildMemberJoin, "18" (a thread's creation), a call
    assert [e['text'] for e in cs[0].meta['events']] == ['Joined the server.', 'Started a call.']


def test_raw_markup_is_written_as_names():
    cs = balanced(read_discord(D/'raw_markup', me='marta.ruiz'))
    assert [t.text for t in cs[0].turns] == ['@Leo try the :crimp: line in #beta, reset 2024-03-09 16:00',
                                             'on it @Marta R']
    assert cs.report.repaired == Counter(raw_markup=2)


# ---------------------------------------------------------------- CSV variants
@pytest.mark.parametrize('folder, tz, first, n_kept, skipped', [
    ('csv_iso', 'UTC', datetime(2024, 3, 8, 9, 0, 11, 457000, tzinfo=UTC), 3, Counter(system=2, attachment_only=1)),
    ('csv_locale_us', 'America/Los_Angeles', datetime(2023, 10, 6, 7, 37, tzinfo=UTC), 2, Counter(call=1, bare_url=1)),
    ('csv_locale_de', 'Europe/Berlin', datetime(2023, 10, 5, 22, 37, tzinfo=UTC), 2, Counter(system=1)),
    ('csv_2022', 'UTC', datetime(2022, 2, 14, 15, 45, tzinfo=UTC), 2, Counter(system=1, call=1)),
    ('csv_unix', 'UTC', datetime(2022, 3, 10, 16, 25, 30, 123000, tzinfo=UTC), 2, Counter()),
])
def test_csv_date_formats(folder, tz, first, n_kept, skipped):
    cs = balanced(read_discord(D/folder, tz=tz, errors='skip'))
    assert cs[0].turns[0].time == first and cs.report.kept == n_kept and cs.report.skipped == skipped
    assert all(cs[0].turns[i].time <= cs[0].turns[i + 1].time for i in range(len(cs[0].turns) - 1))


def test_csv_content_and_warnings():
    cs = read_discord(D/'csv_iso', me='marta.ruiz')
    assert turns(cs[0])[:2] == [('leo.brandt', 'hi all, new here.\nanyone up for bouldering saturday?'),
                                ('marta.ruiz', '@Leo welcome! she said "bring chalk"')]
    assert cs[0].turns[1].meta == {'reactions': ['👍', '❤️']} and not cs.report.warnings
    us = read_discord(D/'csv_locale_us', me='owen.price')                  # local times, no offset, tz not given
    assert us.report.notes['local_time'] == 4 and any("read as UTC; pass tz=" in w for w in us.report.warnings)
    assert us[0].title == 'Marta' and us[0].meta['type'] == 'DirectTextChat'
    assert not any('day from the month' in w for w in us.report.warnings)   # 10/13/2023 decides month/day


def test_csv_day_month_undecided_warns(tmp_path):
    f = tmp_path/'Klub - allgemein [5].csv'
    f.write_text('AuthorID,Author,Date,Content,Attachments,Reactions\n"1","a","06.10.2023 00:37","hallo","",""\n')
    cs = read_discord(f, me='a')
    assert cs[0].turns[0].time.month == 6 and any('no date tells the day from the month' in w for w in cs.report.warnings)


def test_json_and_csv_of_one_channel(tmp_path):
    for f in [*(D/'guild_2024').glob('*].json'), *(D/'csv_iso').glob('*.csv')]: shutil.copy(f, tmp_path)
    cs = balanced(read_discord(tmp_path, me='leo.brandt'))
    assert len(cs) == 1 and cs.report.read == 10                # the two JSON partitions
    assert [(Path(p).suffix, why) for p, why in cs.report.ignored] == [('.csv', 'same_channel_as_json')]


# ---------------------------------------------------------------- detection, load_chats, every file accounted for
def test_detection_by_content_in_a_mixed_folder(tmp_path):
    root = tmp_path/'exports'
    shutil.copytree(D, root/'discord')
    shutil.copytree(S/'instagram', root/'instagram')
    (root/'renamed').mkdir()
    shutil.copy(D/'dm_2025/Direct Messages - Marta [1144556677889900112].json', root/'renamed/backup.json')
    shutil.copy(D/'csv_unix/Climbing Club - text - general [1100000000000000001].csv', root/'renamed/data.txt')
    (root/'other.csv').write_text('ID,Timestamp,Contents,Attachments\n1,2023-01-01 10:00:00,hi,\n')   # Discord's own
    (root/'guild.json').write_text(json.dumps({'guild': {'id': '1'}, 'members': []}))                # package files
    (root/'chat.txt').write_text('14/03/2023, 09:02 - Priya: hi\n14/03/2023, 09:03 - Sam: hello\n')
    want = {'renamed/backup.json': 'discord', 'renamed/data.txt': 'discord', 'other.csv': None, 'guild.json': None,
            'chat.txt': 'whatsapp'}
    for rel, fmt in want.items(): assert detect_format(root/rel) == fmt, rel
    for p in (root/'discord').rglob('*'):
        if p.is_file(): assert detect_format(p) == 'discord', p
    cs = balanced(load_chats(root, me=['owen.price', 'Owen Price', 'leo.brandt'], tz='UTC'))
    listed = {Path(p).relative_to(root).as_posix(): why for p, why in cs.report.ignored}
    assert listed['other.csv'] == listed['guild.json'] == 'unrecognised_file'
    assert listed['instagram/ig_2020/profile.json'] == 'unrecognised_file'
    for p in root.rglob('*'):
        if p.is_file():
            k = str(p)
            assert any(f == k or f.startswith(k + '#') for f in cs.report.files) or k in dict(cs.report.ignored), p
    same = sorted(Path(p).parent.name for p, why in cs.report.ignored if why == 'same_channel_as_json')
    assert same == ['csv_2022', 'csv_iso', 'csv_locale_us', 'csv_unix']   # channels (by id) read from their JSON
    assert sum(c.title == 'Climbing Club - text - general' for c in cs) == 1
    assert load_chats(D/'csv_locale_de', tz='Europe/Berlin')[0].turns[0].time.hour == 22        # options pass through


# ---------------------------------------------------------------- broken input
def test_broken_files_name_the_file_and_the_place(tmp_path):
    good = (D/'dm_2025/Direct Messages - Marta [1144556677889900112].json').read_text(encoding='utf-8')
    (tmp_path/'cut.json').write_text(good[:2000])
    with pytest.raises(ChatParseError, match=r'cut\.json, line \d+ column \d+ .*invalid JSON'):
        read_discord(tmp_path/'cut.json')
    (tmp_path/'a.csv').write_text('Author,Date,Content\n"a","b","c"\n')
    with pytest.raises(ChatParseError, match=r"a\.csv, line 1: header 'Author,Date,Content' is not DiscordChatExporter"):
        read_discord(tmp_path/'a.csv')
    (tmp_path/'b.csv').write_text('AuthorID,Author,Date,Content,Attachments,Reactions\n"1","a","yesterday","hi","",""\n')
    with pytest.raises(ChatParseError, match=r"b\.csv, line 2: date 'yesterday' is in no format"):
        read_discord(tmp_path/'b.csv')
    (tmp_path/'c.json').write_text(json.dumps({'guild': {}, 'channel': {}, 'messages': [{'from': 'a'}]}))
    with pytest.raises(ChatParseError, match=r"c\.json, messages: messages have none of DiscordChatExporter's keys"):
        read_discord(tmp_path/'c.json')
    (tmp_path/'d.json').write_text(json.dumps({'guild': {}, 'channel': 'general', 'messages': []}))
    with pytest.raises(ChatParseError, match=r'd\.json, top level: not a DiscordChatExporter export'):
        read_discord(tmp_path/'d.json')


def test_a_broken_file_in_a_folder_is_listed_with_skip(tmp_path):
    shutil.copytree(D/'dm_2025', tmp_path/'x')
    (tmp_path/'x/Climbing Club - general [7].json').write_text('{"guild": {"id": "1"}, "channel": {"id": "7"}, "dateRange": {}, "messages": [')
    with pytest.raises(ChatParseError, match='invalid JSON'): read_discord(tmp_path/'x')
    cs = balanced(read_discord(tmp_path/'x', errors='skip'))
    assert len(cs) == 1 and [why.split(' (')[0] for _, why in cs.report.ignored] == ['discord: invalid JSON']


def test_malformed_messages_are_counted_not_fatal(tmp_path):
    a = {'id': '1', 'name': 'a', 'discriminator': '0000'}
    msgs = [{'id': '1', 'type': 'Default', 'timestamp': '2024-01-01T10:00:00+00:00', 'content': 'hi', 'author': a},
            'junk', {'id': '2', 'type': 'Default', 'timestamp': 'soon', 'content': 'x', 'author': a},
            {'id': '3', 'type': 'Default', 'timestamp': '2024-01-01T10:01:00+00:00', 'content': 'y', 'author': 'a'},
            {'id': '4', 'type': 'SomethingNew', 'timestamp': '2024-01-01T10:02:00+00:00', 'content': 'z', 'author': a},
            {'id': '5', 'type': '21', 'timestamp': '2024-01-01T10:03:00+00:00', 'content': '', 'author': a},
            {'id': '6', 'type': 'Default', 'timestamp': '2024-01-01T10:04:00', 'content': 'naive', 'author': a}]
    (tmp_path/'x.json').write_text(json.dumps({'guild': {'name': 'G'}, 'channel': {'id': '9', 'name': 'c'}, 'messages': msgs}))
    cs = balanced(read_discord(tmp_path/'x.json', me='a', tz='Europe/Paris'))
    assert cs.report.skipped == Counter(malformed=2, bad_timestamp=1, unknown_type=1, thread_starter=1)
    assert [(t.text, t.time.hour) for t in cs[0].turns] == [('naive', 9), ('hi', 10)]      # 10:04 in Paris
    assert cs.report.notes['local_time'] == 1


_text = st.text(max_size=12)
_msg = st.fixed_dictionaries({}, optional={
    'id': st.one_of(st.text(max_size=3), st.integers()), 'type': st.sampled_from(['Default', 'Reply', '19', '7', 'Call', 'X', 3]),
    'timestamp': st.one_of(st.sampled_from(['2024-01-01T10:00:00.1+02:00', '2024-01-01T10:00:00', 'bad']), st.none()),
    'content': st.one_of(_text, st.none(), st.integers()), 'timestampEdited': st.one_of(st.none(), _text),
    'author': st.one_of(st.fixed_dictionaries({}, optional={'id': _text, 'name': st.one_of(_text, st.none()),
                                                            'discriminator': _text, 'isBot': st.booleans()}), _text),
    'attachments': st.lists(st.just({}), max_size=1), 'reactions': st.lists(st.one_of(st.just({'emoji': {'name': 'x'}}), _text), max_size=2),
    'reference': st.one_of(st.none(), st.just({'type': 'Forward'}), st.just({'messageId': '1'})),
    'mentions': st.lists(st.one_of(st.just({'id': '1', 'name': 'm'}), _text), max_size=1)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(msgs=st.lists(st.one_of(_msg, _text, st.integers()), max_size=8))
def test_any_messages_balance_or_raise_chat_parse_error(tmp_path, msgs):
    f = tmp_path/'fuzz [1].json'
    f.write_text(json.dumps({'guild': {'name': 'G'}, 'channel': {'id': '1', 'name': 'c'}, 'dateRange': {}, 'messages': msgs}))
    try: cs = read_discord(f)
    except ChatParseError: return                             # the file as a whole is refused, with why
    balanced(cs)
    assert cs.report.read == len(msgs)
