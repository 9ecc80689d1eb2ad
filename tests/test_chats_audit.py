"A second audit of the readers against what real tools write: files in tests/fixtures/chats/audit/, one test each."
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
import pytest
from finetune_kit.chats import *

A = Path(__file__).parent/'fixtures'/'chats'/'audit'


def turns(chat): return [(t.speaker, t.text) for t in chat.turns]

def balanced(cs):
    for k, f in cs.report.files.items(): assert f.read == f.kept + sum(f.skipped.values()), k
    assert cs.report.balanced
    return cs


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
