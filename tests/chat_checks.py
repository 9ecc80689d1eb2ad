"""Checks the chat-reader tests share (imported like tests/browser.py): what a chat says, and that nothing was lost."""


def turns(chat):
    "[(speaker, text)] of `chat`'s turns"
    return [(t.speaker, t.text) for t in chat.turns]


def balanced(cs):
    "kept + skipped == read for every file, and the report says so; `cs` back"
    for k, f in cs.report.files.items(): assert f.read == f.kept + sum(f.skipped.values()), k
    assert cs.report.balanced
    return cs
