"""The readers' shortcuts against the rules they stand for (hypothesis): Messenger's fast message loop against its
one-message path, the notice prefilter against the notice table, the mojibake retry's test against the repair, and
Instagram's one-pass hint search against the per-text test. A shortcut taken for speed may never change a result:
the same turns, the same counts, the same events."""
import random
from hypothesis import given, settings, strategies as st, HealthCheck
from finetune_kit.chats import read_messenger, sample_data
from finetune_kit.chats.core import FileStats, Turn, fix_mojibake
from finetune_kit.chats.messenger import (MESSENGER_NOTICES, _NOTICE_RX, _could_be_notice, _Thread, _fb_message,
                                          _fb_messages, _repairable)
from finetune_kit.chats.instagram import _HINTS, _hinted, _hinted_at, _ig_turns, instagram_notice

MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = [ex for rows in MESSENGER_NOTICES.values() for _, _, ex in rows]
ODD = ['ſ', 'İ', 'ı', 'K', 'Σ', 'ß', 'ǅ', '\u00a0', '\u3000', '\t', '\n', ' ', '  ', '.', '!', '😂', 'Ã©', 'é', "'s",
       'http://x.org/a', 'www.x.org', 'Ana', 'the group', 'message']


def moji(s): return s.encode('utf-8', 'surrogatepass').decode('latin-1')


@st.composite
def near_notices(draw):
    "A notice example, edited: a span's case changed, a span replaced by odd text, spaces appended, mojibake"
    c = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(c)))
        j = draw(st.integers(i, min(len(c), i + 12)))
        op = draw(st.sampled_from(['upper', 'lower', 'swap', 'replace', 'append', 'prepend']))
        if op in ('upper', 'lower', 'swap'): c = c[:i] + getattr(c[i:j], op if op != 'swap' else 'swapcase')() + c[j:]
        elif op == 'replace': c = c[:i] + draw(st.sampled_from(ODD) | st.text(max_size=4)) + c[j:]
        elif op == 'append': c += draw(st.sampled_from([' ', '  ', '\t', '\u00a0', '\n', '.', '!']))
        else: c = draw(st.sampled_from(ODD)) + ' ' + c
    return moji(c) if draw(st.booleans()) and draw(st.booleans()) else c


@MANY
@given(c=near_notices())
def test_prefilter_passes_every_notice(c):
    "Every text the notice table matches passes the cheap test in front of it"
    if _NOTICE_RX.fullmatch(c): assert _could_be_notice(c), repr(c)


def test_prefilter_is_selective():
    "Most texts stop at the prefilter: the table's cost is paid for few of them"
    texts = [t.text for c in read_messenger(sample_data('messenger'), errors='skip') for t in c.turns]
    rng = random.Random(0)
    texts += [' '.join(rng.choices('ok see you at the café the group left set to tomorrow'.split(), k=8)) + '.'
              for _ in range(500)]
    passed = sum(map(_could_be_notice, texts))
    assert passed < len(texts) * 0.1, (passed, len(texts))
    assert all(_could_be_notice(ex) for ex in EXAMPLES)


texts = st.one_of(near_notices(), st.text(max_size=20), st.sampled_from(ODD + ['', ' ', '\n', 'ok', 'Ok!']),
                  near_notices().map(moji).map(moji))      # escaped twice: a notice only once the retry repairs it
values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=3),
                   st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))
stamps = st.one_of(st.integers(1_600_000_000_000, 1_700_000_000_000), st.integers(1_600_000_000, 1_700_000_000),
                   st.integers(-10, 10**17), st.floats(allow_nan=True, allow_infinity=True), values)
reactions = st.lists(st.one_of(st.fixed_dictionaries({'reaction': st.sampled_from(['❤', moji('😂'), 'x']) | values}),
                               values), max_size=3)
EXTRA = {'type': st.sampled_from(['Generic', 'Share', 'Call', 'Subscribe', 'Unsubscribe']) | values,
         'is_unsent': st.booleans() | values, 'is_taken_down': st.booleans() | values, 'users': values,
         'call_duration': values, 'photos': st.just([{'uri': 'p.jpg'}]) | values, 'videos': values, 'gifs': values,
         'sticker': st.just({'uri': 's.png'}) | values, 'share': st.just({'link': 'https://x.org'}) | values,
         'reactions': reactions | values, 'timestamp': stamps, 'is_geoblocked_for_viewer': st.booleans(),
         'is_unsent_image_by_messenger_kid_parent': st.booleans()}


@st.composite
def message(draw):
    "A message of a standard export: mostly well formed (sender, time in ms, text), with 0-3 other keys"
    m = {}
    for key, good, bad in (('sender_name', st.sampled_from(['Jordan Pike', moji('Ana Kovač'), '']), values),
                           ('timestamp_ms', st.integers(1_600_000_000_000, 1_700_000_000_000), stamps),
                           ('content', texts, values)):
        r = draw(st.integers(0, 9))
        if r < 8: m[key] = draw(good)
        elif r == 8: m[key] = draw(bad)
    for key in draw(st.lists(st.sampled_from(sorted(EXTRA)), max_size=3, unique=True)): m[key] = draw(EXTRA[key])
    return m


def outcome(loop, msgs, fix, drop_urls):
    th = _Thread(FileStats(), fix=fix, drop_urls=drop_urls)
    turns = loop(msgs, th)
    return ([(t.speaker, t.text, t.time, t.meta) for t in turns], th.st.kept, th.st.skipped, th.st.repaired,
            th.events)


def one_by_one(msgs, th): return [t for m in reversed(msgs) if (t := _fb_message(m, th)) is not None]


@MANY
@given(msgs=st.lists(message() | values, max_size=25), fix=st.booleans(), drop_urls=st.booleans())
def test_fast_loop_is_the_one_message_rules(msgs, fix, drop_urls):
    "`_fb_messages` (the fast loop) gives what `_fb_message` applied to each message gives"
    assert outcome(_fb_messages, msgs, fix, drop_urls) == outcome(one_by_one, msgs, fix, drop_urls)


latin1 = st.text(st.characters(max_codepoint=0xff), max_size=12)
mojibake = st.text(max_size=6).map(moji)


@MANY
@given(c=st.one_of(latin1, mojibake, mojibake.map(moji), st.text(max_size=8), st.tuples(mojibake, latin1).map(''.join)))
def test_repairable_is_true_of_every_text_the_repair_changes(c):
    "`_repairable` (the cheap test before the retry) is true of every text `fix_mojibake` changes"
    if fix_mojibake(c) != c: assert _repairable(c), repr(c)


hinty = st.one_of(st.sampled_from(_HINTS + ('', 'Story', 'cal', 'l', '\0', 'pollen', 'Video chat ended')),
                  st.text(max_size=6))


@MANY
@given(texts=st.lists(st.lists(hinty, max_size=4).map(' '.join), max_size=12))
def test_hinted_at_is_the_per_text_test(texts):
    "`_hinted_at` (one search over the joined texts) finds exactly the texts `_hinted` is true of"
    assert _hinted_at(texts) == [i for i, c in enumerate(texts) if _hinted(c)]


def ig_one_by_one(new, st, events):
    "Instagram's notices applied turn by turn: the rule `_ig_turns` stands for"
    out = []
    for t in new:
        if (why := instagram_notice(t.text)) is None:
            out.append(t)
            continue
        st.kept -= 1
        st.skipped[why] += 1
        if why == 'call': events.append({'time': t.time, 'kind': 'call', 'text': t.text})
    return out


ig_texts = st.one_of(hinty, st.sampled_from(['Marta shared a story.', 'Video chat ended', 'You missed an audio call',
                                             'Owen voted "Sat" in the poll.', 'nice!', 'call me']))


@MANY
@given(texts=st.lists(ig_texts, max_size=15))
def test_ig_turns_is_the_turn_by_turn_rule(texts):
    "`_ig_turns` drops, counts and records the same turns as Instagram's notices applied one turn at a time"
    def run(f):
        new = [Turn('Marta', c, None) for c in texts]
        stats, events = FileStats(kept=len(new)), []
        return [t.text for t in f(new, stats, events)], stats.kept, stats.skipped, events
    assert run(_ig_turns) == run(ig_one_by_one)
