"A second audit of the readers against what real tools write: files in tests/fixtures/chats/audit/, one test each."
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
import pytest
from finetune_kit.chats import *
from chat_checks import turns, balanced

JP = "Jordan Pike"
A = Path(__file__).parent/'fixtures'/'chats'/'audit'




def test_audit_corpus_says_where_each_variant_was_seen():
    readme = (A/'README.md').read_text(encoding='utf-8')
    files = sorted(p.relative_to(A).as_posix() for p in A.rglob('*') if p.is_file() and p.name != 'README.md')
    assert files and all(f"`{f}`: " in readme for f in files)


def test_whatsapp_ios_chat_notice_documents_and_locations():
    cs = balanced(read_whatsapp(A/'whatsapp_ios_2019', me='Rui Lopes'))
    assert turns(cs[0]) == [('Inês Duarte', 'did you get the menu?'), ('Inês Duarte', 'see you there')]
    assert cs.report.skipped == Counter(e2e_notice=1, attachment_only=1, location=2)
    assert cs[0].turns[0].time == datetime(2019, 1, 14, 18, 0, 5, tzinfo=timezone.utc)


def test_whatsapp_android_repeated_document_name_and_three_line_location():
    cs = balanced(read_whatsapp(A/'whatsapp_android_2019', me='Rui Lopes'))
    assert turns(cs[0]) == [('Inês Duarte', 'see you there')]
    assert cs.report.skipped == Counter(e2e_notice=1, attachment_only=1, location=1)


def test_telegram_forwarded_from_a_deleted_account_and_null_locations():
    cs = balanced(read_telegram(A/'telegram_forwarded_null', me='Tom Fisk'))
    assert turns(cs[0]) == [('Noor Haddad', 'are you still up for the concert?'), ('Tom Fisk', 'yes! see you at 8')]
    assert cs.report.skipped == Counter(forwarded=1, non_text=2)
    kept = balanced(read_telegram(A/'telegram_forwarded_null', me='Tom Fisk', keep_forwarded=True))
    assert ('Tom Fisk', 'read this, a friend sent it') in turns(kept[0])


def test_whisperx_highlight_words_pause_cues_are_not_read_twice():
    cs = balanced(read_whisperx(A/'whisperx_highlight', max_ratio=None))
    assert turns(cs[0]) == [('Host', 'Welcome back, how was Iceland?'), ('Guest', 'Freezing, but worth it.'),
                            ('Host', 'Tell me everything.'), ('Guest', 'Sure.')]
    st, = cs.report.files.values()
    assert st.kept == 4 and st.skipped == Counter(duplicate_cue=st.read - 4)


def test_whatsapp_two_digit_year_first():
    cs = balanced(read_whatsapp(A/'whatsapp_year_first', me='Sofia Reyes'))
    assert [t.time.date().isoformat() for t in cs[0].turns] == ['2023-12-05', '2023-12-05', '2023-12-21',
                                                                '2023-12-30', '2024-01-02']
    assert not cs.report.warnings and not cs.report.skipped


def test_whatsapp_year_in_the_middle_and_spaced_attachment_marker():
    cs = balanced(read_whatsapp(A/'whatsapp_month_year_day', me='Ada Byrne'))
    assert turns(cs[0]) == [('Ada Byrne', 'look at this'), ('Cal Obi', 'wow, where is that?')]
    assert cs[0].turns[0].time == datetime(2018, 6, 13, 21, 25, 15, tzinfo=timezone.utc)
    assert cs.report.skipped == Counter(attachment_only=1)


def test_whatsapp_file_of_impossible_dates_says_so(tmp_path):
    (tmp_path/'WhatsApp Chat with Al.txt').write_text('40/40/23, 10:00 - Al: hi\n40/40/23, 10:01 - Bo: hey\n', 'utf-8')
    cs = balanced(read_whatsapp(tmp_path, me='Al'))
    assert len(cs) == 0 and cs.report.skipped == Counter(bad_date=2)
    assert any('2 of 2 dates impossible' in w for w in cs.report.warnings)


def test_telegram_html_export_is_named_and_refused(tmp_path):
    with pytest.raises(ChatParseError, match='Machine-readable JSON'): read_telegram(A/'telegram_html')
    with pytest.raises(ChatParseError, match='Telegram export is HTML'): load_chats(A/'telegram_html')
    (tmp_path/'result.json').write_text((A/'telegram_forwarded_null'/'result.json').read_text('utf-8'), 'utf-8')
    (tmp_path/'messages.html').write_text((A/'telegram_html/ChatExport_2023-06-06/messages.html').read_text('utf-8'))
    cs = balanced(read_telegram(tmp_path, me='Tom Fisk'))
    assert len(cs) == 1 and cs.report.ignored == [(str(tmp_path/'messages.html'),
                                                   'html_export: export again as machine-readable JSON')]


def test_vtt_voice_tags_are_speakers():
    cs = balanced(read_whisperx(A/'vtt_voice_tags'))
    assert [t.speaker for t in cs[0].turns] == ['Host', 'Guest', 'Host', 'Guest'] and not cs.report.excluded
    assert cs[0].meta['speakers'] == ['Ana Kovač', 'Jordan Pike'] and cs[0].turns[1].text.startswith('Thanks')


def test_whatsapp_placeholders_and_markers_in_other_languages():
    cs = balanced(read_whatsapp(A/'whatsapp_localised/_chat.txt', me='Hugo Petit'))
    assert turns(cs[0]) == [('Léa Martin', 'tu viens ce soir ?'), ('Hugo Petit', 'oui, vers 21h')]
    assert cs.report.skipped == Counter(media_omitted=3, deleted=1) and cs.report.repaired['edited_suffix'] == 1
    cs = balanced(read_whatsapp(A/'whatsapp_localised/WhatsApp Chat con Giulia Conti.txt', me='Marco Rossi'))
    assert turns(cs[0]) == [('Marco Rossi', 'arrivo tra 10 minuti'), ('Giulia Conti', 'perfetto')]
    assert cs.report.skipped == Counter(media_omitted=2, poll=1, deleted=1, placeholder=1)


def test_messenger_theme_notice_ending_with_an_emoji():
    cs = balanced(read_messenger(A/'messenger_theme_emoji', me=JP))
    assert turns(cs[0]) == [('Mariana Lopes', 'new theme for the trip!'), (JP, 'love it')]
    assert cs.report.skipped == Counter(system=1)


def test_whatsapp_zip_and_its_unzipped_copy_are_one_chat():
    for read in (read_whatsapp, load_chats):
        cs = balanced(read(A/'whatsapp_zip_and_unzipped', me='Sam Ortiz'))
        assert len(cs) == 1 and len(cs[0].turns) == 2, read.__name__
        (dup, why), = cs.report.ignored
        assert why.startswith('same chat as ') and (dup.endswith('.zip!_chat.txt') or dup.endswith('/_chat.txt'))


def test_telegram_same_chat_in_two_exports_is_one_chat():
    cs = balanced(read_telegram(A/'telegram_overlapping_exports'))
    assert len(cs) == 1 and [t.meta['id'] for t in cs[0].turns] == [11, 12, 13, 14, 15]
    assert cs.report.skipped == Counter(duplicate=3) and cs[0].meta['me'] == 'Tom Fisk'


def test_whatsapp_chat_exported_twice_is_one_chat():
    cs = balanced(read_whatsapp(A/'whatsapp_exported_twice', me='Tom Hale'))
    assert len(cs) == 1 and [t.text for t in cs[0].turns] == ['shall we plant the beans?', 'Saturday?', 'deal',
                                                             'beans everywhere now', 'jam time']
    assert cs.report.skipped == Counter(duplicate=3) and cs.report.kept == 5


def test_openai_developer_role_is_the_system_prompt():
    cs = balanced(read_openai(A/'openai_developer_role'))
    assert [turns(c) for c in cs] == [[('user', 'north wall on Saturday?'), ('assistant', 'in. bringing the spare rope')],
                                      [('user', 'coffee?'), ('assistant', 'always')]]
    assert cs[0].meta['system'] == 'You are Jordan. Reply the way Jordan texts.'
    assert cs.report.skipped == Counter(system_prompt=2)
