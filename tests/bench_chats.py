#!/usr/bin/env python
"""Benchmark: read_messenger on a generated 1,000,000-message Messenger export vs bare json.load of the same files.

Usage: python tests/bench_chats.py [N_MESSAGES]   (default 1_000_000; files of 10,000 messages, newest first, Meta's
mojibake escapes, a realistic mix of photos, stickers, reactions, unsent messages and calls). Each measurement runs in
its own process so peak RSS (ru_maxrss) is its own; all are run BENCH_ROUNDS times (default 3), interleaved,
and the best time of each is printed with its peak RSS in MiB. `floor` is the price of the result alone: the
same parse as read_messenger (orjson when installed), then for every message its aware datetime and for every text
its mojibake repair and a `Turn`, with no rule applied (and, as read_messenger, no cyclic GC); what
read_messenger takes beyond it is its rules.
With BENCH_BASELINE=<folder holding another finetune_kit package> (e.g. an older commit unpacked with
`git archive <rev> finetune_kit | tar -x -C /tmp/old`), that version's read_messenger is timed too, side by side."""
import json, os, random, resource, subprocess, sys, tempfile, time
from pathlib import Path

WORDS = ('ok sure haha see you at the café tomorrow 7 ☕ where are you 😂 did you get the tickets? Žilina is freezing '
         'bring the maps lol yes no maybe later 👍 on my way running late ❤ sounds good what time').split()


def moji(s): return s.encode('utf-8').decode('latin-1')


def message(rng, ts, people):
    who = moji(rng.choice(people))
    r = rng.random()
    m = {'sender_name': who, 'timestamp_ms': ts}
    if r < 0.80: m['content'] = moji(' '.join(rng.choices(WORDS, k=rng.randint(1, 12))))
    elif r < 0.86: m['photos'] = [{'uri': f'messages/inbox/t/photos/{ts}.jpg', 'creation_timestamp': ts // 1000}]
    elif r < 0.89: m['sticker'] = {'uri': 'messages/stickers_used/1.png'}
    elif r < 0.91: m['is_unsent'] = True
    elif r < 0.92: m.update(content='You called Ana.', call_duration=60)
    elif r < 0.94: m['content'] = moji(f'{who} sent an attachment.')
    if r < 0.1: m['reactions'] = [{'reaction': moji('❤'), 'actor': moji(people[0])}]
    return m


def generate(root, n, per_file=10_000, per_thread=20_000):
    rng = random.Random(0)
    threads = (n + per_thread - 1) // per_thread
    made = 0
    for t in range(threads):
        people = ['Jordan Pike', f'Ana Kovač {t}'] + ([f'Mia Sørensen {t}'] if t % 3 == 0 else [])
        d = root/'your_facebook_activity/messages/inbox'/f'thread{t}_{1000 + t}'
        d.mkdir(parents=True)
        k = min(per_thread, n - made); ts = 1_600_000_000_000 + t * 10**9
        msgs = [message(rng, ts + i * 60_000, people) for i in range(k)][::-1]      # newest first
        for j in range(0, k, per_file):
            obj = {'participants': [{'name': moji(p)} for p in people], 'messages': msgs[j:j + per_file],
                   'title': moji(people[1]), 'is_still_participant': True, 'thread_path': f'inbox/{d.name}'}
            (d/f'message_{j // per_file + 1}.json').write_text(json.dumps(obj, indent=2))
        made += k
    return made


CHILD = r'''
import json, sys, time, resource, gc
from pathlib import Path
root, mode = Path(sys.argv[1]), sys.argv[2]
files = sorted(root.rglob('message_*.json'))
if mode == 'read_messenger': from finetune_kit.chats import read_messenger   # import time is not reading time
if mode == 'floor':
    from datetime import datetime, timezone
    from finetune_kit.chats.core import Turn, read_text, parse_json, fix_mojibake, no_gc
t0 = time.perf_counter()
if mode == 'json_load':
    n = 0
    for f in files:
        with open(f) as fh: n += len(json.load(fh)['messages'])
elif mode == 'floor':
    turns, utc = [], timezone.utc
    with no_gc():                                # as read_messenger: no cyclic collection among new objects
        for f in files:
            for m in reversed(parse_json(read_text(f), f)['messages']):
                when, c = datetime.fromtimestamp(m['timestamp_ms'] / 1000, utc), m.get('content')
                if c: turns.append(Turn(m['sender_name'], fix_mojibake(c), when, {}))
    n = len(turns)
elif mode == 'json_load_keep':
    docs = []
    for f in files:
        with open(f) as fh: docs.append(json.load(fh))
    n = sum(len(d['messages']) for d in docs)
else:
    cs = read_messenger(root, me='Jordan Pike')
    n = cs.report.read
    assert cs.report.balanced
    extra = f" kept={cs.report.kept} chats={len(cs)} skipped={dict(cs.report.skipped)}"
dt = time.perf_counter() - t0
print(json.dumps({'mode': mode, 'records': n, 'seconds': round(dt, 2), 'peak_rss_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  'extra': globals().get('extra', '')}))
'''


def run(root, mode):
    env = dict(os.environ)
    if mode == 'baseline': env['PYTHONPATH'] = os.environ['BENCH_BASELINE']    # the other package is imported first
    child = mode if mode != 'baseline' else 'read_messenger'
    out = subprocess.run([sys.executable, '-c', CHILD, str(root), child], capture_output=True, text=True, check=True, env=env)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r['mode'] = mode
    return r


ROUNDS = int(os.environ.get('BENCH_ROUNDS', 3))

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)/'facebook-export'
        t0 = time.perf_counter(); made = generate(root, n)
        size = sum(f.stat().st_size for f in root.rglob('*.json'))
        print(f"generated {made:,} messages in {len(list(root.rglob('*.json')))} files, {size / 2**20:.0f} MiB, in {time.perf_counter() - t0:.1f} s")
        res = {}
        for _ in range(ROUNDS):      # interleaved rounds, best time of each: the machine is shared and noisy
            for m in ('json_load', 'json_load_keep', 'floor', 'read_messenger') + (('baseline',) if os.environ.get('BENCH_BASELINE') else ()):
                r = run(root, m)
                if m not in res or r['seconds'] < res[m]['seconds']: res[m] = r
        for m, r in res.items(): print(f"{m:>15}: {r['seconds']:6.2f} s   peak RSS {r['peak_rss_mib']:7.1f} MiB   records {r['records']:,} {r['extra']}")
        print(f"read_messenger / json.load time: {res['read_messenger']['seconds'] / res['json_load']['seconds']:.2f}x  (target <= 2x)")
        print(f"floor / json.load time: {res['floor']['seconds'] / res['json_load']['seconds']:.2f}x")
        if 'baseline' in res:
            print(f"baseline / json.load time: {res['baseline']['seconds'] / res['json_load']['seconds']:.2f}x")


if __name__ == '__main__': main()
