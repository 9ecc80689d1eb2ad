#!/usr/bin/env python
"""Benchmark: finetune_kit's chat readers side by side with the parsers people use, `chat-miner` and `whatstk`.

Generates large exports in a temp folder (WhatsApp 1,000,000 lines; Messenger and Instagram 1,000,000 messages in
files of 10,000, Meta's mojibake and the keys of a 2024 download; a 500,000-message Telegram result.json; a
200,000-message DiscordChatExporter JSON, which no peer reads) and reads the same files with every reader of the
format, one fresh subprocess per reader so that its peak RSS is its own. Prints the CPU time and the wall time of
the read call (imports excluded), the process's peak RSS (VmHWM, imports included) and each reader's CPU time
relative to finetune_kit's (CPU time, because wall time on a shared machine measures the neighbours), plus a bare
`json.load` of the same files for the JSON formats.

The peers are not finetune_kit dependencies; install them to compare:  pip install chat-miner whatstk
A missing peer is skipped with the reason printed. Each reader is called as its README shows, to the data a user
gets: `read_*` (finetune_kit), `df_from_whatsapp` (whatstk), `parse_file()` then `parsed_messages.get_df()`
(chat-miner; also timed without `get_df`, "parse only"). chat-miner's parsers read one file each (we loop over a
folder's files); its tqdm bars are disabled (TQDM_DISABLE=1) so that they cost nothing.

Usage: python tests/bench_peers.py [--scale 1.0] [--formats whatsapp,messenger,instagram,telegram,discord]
                                   [--rounds 1] [--keep DIR]
--scale multiplies every size (0.1 for a quick run); with --rounds N each reader runs N times, interleaved, and the
best time is printed."""
import argparse, json, os, random, shutil, subprocess, sys, tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ME = 'Jordan Pike'
WORDS = ('ok sure haha see you at the café tomorrow 7 ☕ where are you 😂 did you get the tickets? Žilina is '
         'freezing bring the maps lol yes no maybe later 👍 on my way running late ❤ sounds good what time').split()
SIZES = {'whatsapp': 1_000_000, 'messenger': 1_000_000, 'instagram': 1_000_000, 'telegram': 500_000, 'discord': 200_000}


def text(rng):
    "A message: 1 to 12 words, a quarter of them ending a sentence as people do ('.' or '!')"
    s, r = ' '.join(rng.choices(WORDS, k=rng.randint(1, 12))), rng.random()
    return s + '.' if r < 0.2 else s + '!' if r < 0.25 else s
def moji(s): return s.encode('utf-8').decode('latin-1')


# ---------------------------------------------------------------- generated exports
def gen_whatsapp(root, n_lines):
    "An Android 'Export chat' .txt: 24-hour dd/mm/yyyy headers, multi-line messages, media and deleted messages"
    rng, t = random.Random(1), datetime(2020, 1, 1, 8, 0)
    people, lines = [ME, 'Ana Kovač'], ['01/01/2020, 08:00 - Messages and calls are end-to-end encrypted. '
                                        'No one outside of this chat, not even WhatsApp, can read or listen to them.']
    while len(lines) < n_lines:
        t += timedelta(minutes=rng.randint(1, 30))
        head, r = f"{t:%d/%m/%Y, %H:%M} - {rng.choice(people)}: ", rng.random()
        if r < 0.03: lines.append(head + '<Media omitted>')
        elif r < 0.04: lines.append(head + 'This message was deleted')
        elif r < 0.09: lines += [head + text(rng), text(rng), text(rng)][:n_lines - len(lines)]
        else: lines.append(head + text(rng))
    p = root/'WhatsApp Chat with Ana Kovač.txt'
    p.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return p, len(lines)


def meta_message(rng, ts, people, instagram):
    "A message of a 2024 Meta download: every message carries the two is_* flags"
    who, r = moji(rng.choice(people)), rng.random()
    m = {'sender_name': who, 'timestamp_ms': ts}
    if r < 0.80: m['content'] = moji(text(rng))
    elif r < 0.86: m['photos'] = [{'uri': f'messages/inbox/t/photos/{ts}.jpg', 'creation_timestamp': ts // 1000}]
    elif r < 0.89: m['sticker'] = {'uri': 'messages/stickers_used/1.png'}
    elif r < 0.91: m['is_unsent'] = True
    elif r < 0.92: m.update(content='You called Ana.', call_duration=60)
    elif r < 0.94: m['content'] = moji(f'{who} sent an attachment.')
    elif r < 0.96: m['content'] = 'Liked a message'
    elif r < 0.98 and instagram:
        m.update(content=moji(f'{who} shared a story.'),
                 share={'link': f'https://www.instagram.com/stories/ana/{ts}/', 'original_content_owner': 'ana'})
    else: m['content'] = moji(text(rng))
    if r < 0.1: m['reactions'] = [{'reaction': moji('❤'), 'actor': moji(people[0])}]
    m.update(is_geoblocked_for_viewer=False, is_unsent_image_by_messenger_kid_parent=False)
    return m


def gen_meta(root, n, instagram, per_file=10_000, per_thread=100_000):
    "Thread folders of message_N.json files (message_1 newest, each newest first)"
    rng, made = random.Random(2 if instagram else 3), 0
    top = root/('your_instagram_activity' if instagram else 'your_facebook_activity')/'messages/inbox'
    for t in range((n + per_thread - 1) // per_thread):
        people = [ME, f'Ana Kovač {t}'] + ([f'Mia Sørensen {t}'] if t % 3 == 0 else [])
        d = top/f'thread{t}_{1000 + t}'
        d.mkdir(parents=True)
        k, ts = min(per_thread, n - made), 1_600_000_000_000 + t * 10**9
        msgs = [meta_message(rng, ts + i * 60_000, people, instagram) for i in range(k)][::-1]
        for j in range(0, k, per_file):
            obj = {'participants': [{'name': moji(p)} for p in people], 'messages': msgs[j:j + per_file],
                   'title': moji(people[1]), 'is_still_participant': True, 'thread_path': f'inbox/{d.name}',
                   'magic_words': []}
            (d/f'message_{j // per_file + 1}.json').write_text(json.dumps(obj, indent=2))
        made += k
    return root, made


def gen_telegram(root, n):
    "A Telegram Desktop single-chat result.json: text as strings or entity lists, service messages"
    rng, msgs, t = random.Random(4), [], 1_600_000_000
    people = [(ME, 'user111'), ('Ana Kovač', 'user222')]
    for i in range(n):
        t += rng.randint(1, 600)
        date = datetime.fromtimestamp(t, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')
        name, fid = rng.choice(people)
        if rng.random() < 0.02:
            msgs.append({'id': i, 'type': 'service', 'date': date, 'date_unixtime': str(t), 'actor': name,
                         'actor_id': fid, 'action': 'pin_message', 'message_id': i - 1, 'text': '',
                         'text_entities': []})
            continue
        s = text(rng)
        if rng.random() < 0.1:
            parts = [s, {'type': 'bold', 'text': 'really'}, ' ok']
            ents = [{'type': 'plain', 'text': s}, {'type': 'bold', 'text': 'really'}, {'type': 'plain', 'text': ' ok'}]
        else: parts, ents = s, [{'type': 'plain', 'text': s}]
        msgs.append({'id': i, 'type': 'message', 'date': date, 'date_unixtime': str(t), 'from': name, 'from_id': fid,
                     'text': parts, 'text_entities': ents})
    p = root/'ChatExport_2024-01-01/result.json'
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps({'name': 'Ana Kovač', 'type': 'personal_chat', 'id': 222, 'messages': msgs},
                            ensure_ascii=False, indent=1), encoding='utf-8')
    return p, n


def gen_discord(root, n):
    "A DiscordChatExporter JSON of a server channel: full author objects, replies, bots, joins, attachments"
    rng = random.Random(5)
    def author(i, bot=False):
        return {'id': str(10**17 + i), 'name': f'user{i}', 'discriminator': '0000', 'nickname': f'User {i}',
                'color': None, 'isBot': bot, 'roles': [{'id': '1', 'name': 'member', 'color': None, 'position': 1}],
                'avatarUrl': f'https://cdn.discordapp.com/embed/avatars/{i % 6}.png'}
    people, bot, t, msgs = [author(i) for i in range(8)], author(99, bot=True), datetime(2024, 1, 1), []
    for i in range(n):
        t += timedelta(seconds=rng.randint(1, 300))
        r, a = rng.random(), rng.choice(people)
        stamp = t.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + '+01:00'
        m = {'id': str(12 * 10**17 + i), 'type': 'Default', 'timestamp': stamp,
             'timestampEdited': None, 'callEndedTimestamp': None, 'isPinned': False, 'content': text(rng), 'author': a,
             'attachments': [], 'embeds': [], 'stickers': [], 'reactions': [], 'mentions': [], 'inlineEmojis': []}
        if r < 0.10: m.update(type='Reply', reference={'type': 'Default', 'messageId': str(12 * 10**17 + i - 1),
                                                       'channelId': '1', 'guildId': '2'})
        elif r < 0.12: m.update(author=bot)
        elif r < 0.13: m.update(type='GuildMemberJoin', content='Joined the server.')
        elif r < 0.16: m.update(content='', attachments=[{'id': '3', 'url': 'https://cdn.discordapp.com/a.png',
                                                           'fileName': 'a.png', 'fileSizeBytes': 1000}])
        msgs.append(m)
    doc = {'guild': {'id': '2', 'name': 'Climbing Club', 'iconUrl': None},
           'channel': {'id': '1', 'type': 'GuildTextChat', 'categoryId': None, 'category': 'text', 'name': 'general',
                       'topic': None}, 'dateRange': {'after': None, 'before': None},
           'exportedAt': '2024-06-01T00:00:00.000+00:00', 'messages': msgs, 'messageCount': n}
    p = root/'Climbing Club - text - general [1].json'
    p.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding='utf-8')
    return p, n


GEN = {'whatsapp': gen_whatsapp, 'messenger': lambda r, n: gen_meta(r, n, False),
       'instagram': lambda r, n: gen_meta(r, n, True), 'telegram': gen_telegram, 'discord': gen_discord}


# ---------------------------------------------------------------- readers (each runs in its own process)
READERS = {     # format -> [(reader, peer package or None, code defining RUN(path) -> records it returned)]
    'whatsapp': [
        ('finetune_kit', None, "from finetune_kit.chats import read_whatsapp\n"
                               "def RUN(p): return read_whatsapp(p, me=ME).n_turns"),
        ('whatstk', 'whatstk', "from whatstk.whatsapp.parser import df_from_whatsapp\n"
                               "def RUN(p): return len(df_from_whatsapp(p, max_size=None))"),
        ('chat-miner', 'chatminer', "from chatminer.chatparsers import WhatsAppParser as P\nCM = 1\nDF = 1"),
        ('chat-miner, parse only', 'chatminer', "from chatminer.chatparsers import WhatsAppParser as P\nCM = 1")],
    'messenger': [
        ('finetune_kit', None, "from finetune_kit.chats import read_messenger\n"
                               "def RUN(p): return read_messenger(p, me=ME).n_turns"),
        ('chat-miner', 'chatminer', "from chatminer.chatparsers import FacebookMessengerParser as P\nCM = 1\nDF = 1"),
        ('chat-miner, parse only', 'chatminer', "from chatminer.chatparsers import FacebookMessengerParser as P\nCM = 1"),
        ('json.load', None, "JSON = 1")],
    'instagram': [
        ('finetune_kit', None, "from finetune_kit.chats import read_instagram\n"
                               "def RUN(p): return read_instagram(p, me=ME).n_turns"),
        ('chat-miner', 'chatminer', "from chatminer.chatparsers import InstagramJsonParser as P\nCM = 1\nDF = 1"),
        ('chat-miner, parse only', 'chatminer', "from chatminer.chatparsers import InstagramJsonParser as P\nCM = 1"),
        ('json.load', None, "JSON = 1")],
    'telegram': [
        ('finetune_kit', None, "from finetune_kit.chats import read_telegram\n"
                               "def RUN(p): return read_telegram(p, me=ME).n_turns"),
        ('chat-miner', 'chatminer', "from chatminer.chatparsers import TelegramJsonParser as P\nCM = 1\nDF = 1"),
        ('chat-miner, parse only', 'chatminer', "from chatminer.chatparsers import TelegramJsonParser as P\nCM = 1"),
        ('json.load', None, "JSON = 1")],
    'discord': [
        ('finetune_kit', None, "from finetune_kit.chats import read_discord\n"
                               "def RUN(p): return read_discord(p, me='user0').n_turns"),
        ('json.load', None, "JSON = 1")],
}

CHILD = r'''
import json, logging, sys, time
from pathlib import Path
logging.disable(logging.CRITICAL)
ME, path = %r, sys.argv[1]
files = [str(f) for f in sorted(Path(path).rglob('message_*.json'))] if Path(path).is_dir() else [path]
%s
if 'CM' in globals():                           # chat-miner: one parser per file, as its README shows
    def RUN(p):
        n = 0
        for f in files:
            x = P(f)
            x.parse_file()
            n += len(x.parsed_messages.get_df()) if 'DF' in globals() else len(x.parsed_messages._parsed_messages)
        return n
if 'JSON' in globals():                         # the floor: parse the same files, keep nothing
    def RUN(p):
        n = 0
        for f in files:
            with open(f, encoding='utf-8') as fh: n += len(json.load(fh)['messages'])
        return n
def hwm():                                       # this process's own peak RSS (ru_maxrss counts the parent's)
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith('VmHWM:')) / 1024
rss0 = hwm()
t0, c0 = time.perf_counter(), time.process_time()
n = RUN(path)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({'records': n, 'seconds': dt, 'cpu': cpu, 'peak_mib': hwm(), 'import_mib': rss0}))
'''


PIP = {'chatminer': 'chat-miner', 'whatstk': 'whatstk'}


def have(module):
    if module is None: return True
    return subprocess.run([sys.executable, '-c', f'import {module}'], capture_output=True).returncode == 0


def run(path, code):
    env = dict(os.environ, TQDM_DISABLE='1', OMP_NUM_THREADS='1', POLARS_MAX_THREADS='1')
    out = subprocess.run([sys.executable, '-c', CHILD % (ME, code), str(path)], capture_output=True, text=True, env=env)
    if out.returncode: return {'error': (out.stderr.strip().splitlines() or ['?'])[-1][:100]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--formats', default=','.join(SIZES))
    ap.add_argument('--rounds', type=int, default=1)
    ap.add_argument('--keep', default=None, help='generate into (and keep) this folder')
    args = ap.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix='bench_peers_'))
    rows = []
    try:
        for fmt in args.formats.split(','):
            n = max(100, int(SIZES[fmt] * args.scale))
            d = root/fmt
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            path, made = GEN[fmt](d, n)
            size = sum(f.stat().st_size for f in d.rglob('*') if f.is_file()) / 2**20
            print(f"{fmt}: {made:,} {'lines' if fmt == 'whatsapp' else 'messages'}, {size:,.0f} MiB", flush=True)
            best = {}
            for name, module, code in READERS[fmt]:
                if not have(module):
                    print(f"  skip {name}: {module} is not installed (pip install {PIP[module]})")
                    continue
                best[name] = None
            for _ in range(args.rounds):
                for name, module, code in READERS[fmt]:
                    if name not in best: continue
                    r = run(path, code)
                    if best[name] is None or 'error' in best[name] or r.get('cpu', 1e9) < best[name]['cpu']:
                        best[name] = r
            ours = best.get('finetune_kit') or {}
            for name, r in best.items():
                if 'error' in r:
                    rows.append((fmt, name, 'failed: ' + r['error'], '', '', '', ''))
                    continue
                ratio = r['cpu'] / ours['cpu'] if ours.get('cpu') else float('nan')
                rows.append((fmt, name, f"{r['cpu']:.2f}", f"{r['seconds']:.2f}", f"{r['peak_mib']:,.0f}",
                             f"{ratio:.2f}x", f"{r['records']:,}"))
                print(f"  {name:<22} cpu {r['cpu']:7.2f} s  wall {r['seconds']:7.2f} s  peak {r['peak_mib']:7,.0f} MiB"
                      f"  {ratio:5.2f}x ours  {r['records']:,} records", flush=True)
    finally:
        if not args.keep: shutil.rmtree(root, ignore_errors=True)
    print('\n| format | reader | CPU s | wall s | peak RSS MiB | CPU time / finetune_kit | records returned |')
    print('|---|---|---:|---:|---:|---:|---:|')
    for row in rows: print('| ' + ' | '.join(row) + ' |')


if __name__ == '__main__':
    main()
