"""Screenshots of the talk widgets (`chat`, `blind_test`) for nbs/08b_talk.ipynb, rendered in headless chromium.

    python tests/screenshot_talk.py [--out nbs/images] [--embed-js PATH/TO/html-manager/dist/embed.js] [--steps 20]

What it does: trains the talk-like-me tutorial's CPU model (SmolLM2-135M-Instruct, `--steps` AdaLoRA steps on Sam's
pairs), talks to it through `Conversation` (two tuned replies, then one from the base model), runs two rounds of the
blind test on held-out prompts, saves both widgets' state as a standalone page (`ipywidgets.embed`), serves the pages
on 127.0.0.1 and screenshots them with chromium through selenium (Debian's /usr/bin/chromium and
/usr/bin/chromedriver; `pip install selenium`). The widgets are drawn by ipywidgets' own JavaScript
(`@jupyter-widgets/html-manager`, from npm: `npm install @jupyter-widgets/html-manager@1`); without `--embed-js` the
script installs it with npm into ~/.cache/finetune_kit/npm.

It is not a test (pytest does not collect it): tests/test_talk.py tests the logic headless and the bubbles in chromium.
"""
import argparse, functools, http.server, os, subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def embed_js(path=None)->Path:
    "The html-manager's embed.js: `path`, or installed with npm into a cache folder"
    if path: return Path(path)
    import ipywidgets.embed as E
    prefix = Path.home()/'.cache'/'finetune_kit'/'npm'
    js = prefix/'node_modules'/'@jupyter-widgets'/'html-manager'/'dist'/'embed.js'
    if not js.exists():
        subprocess.run(['npm', 'install', '--silent', '--prefix', str(prefix), f"@jupyter-widgets/html-manager@{E.__html_manager_version__}"], check=True)
    return js

def train(steps:int):
    "The tutorial's CPU causal route: SmolLM2-135M-Instruct + AdaLoRA on Sam's pairs; returns model, tok, held-out pairs"
    import torch
    from datetime import timedelta
    from finetune_kit.models import load_model
    from finetune_kit.chats import read_messenger, pipe_join, split_sessions, chat_pairs, sample_data
    from finetune_kit.prompts import PAIRS
    from finetune_kit.tokens import tokenize_records
    from finetune_kit.adapters import adalora
    from finetune_kit.train import fit
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    chats = read_messenger(sample_data('messenger'), me='Sam Rivera')
    sessions = [s for c in chats for s in split_sessions(pipe_join(c), gap=timedelta(hours=4))]
    pairs = sorted(chat_pairs(sessions), key=lambda p: p['time'])
    cut = pairs[int(len(pairs) * 0.9)]['time']
    train_pairs = [p for p in pairs if p['time'] < cut]
    seen = {(p['prompt'], p['response']) for p in train_pairs}
    held = [p for p in pairs if p['time'] >= cut and (p['prompt'], p['response']) not in seen]
    model, tok = load_model(None, quiet=True)
    ds = tokenize_records(train_pairs, tok, PAIRS, max_len=48)
    torch.manual_seed(0)  # the tutorial's SEED
    model = adalora(model, total_steps=steps)
    fit(model, tok, ds, output_dir=Path(tempfile.mkdtemp())/'run', max_steps=steps, bs=8, lr=1e-2, quiet=True)
    return model, tok, held

def page(box, path:Path, js_url:str, title:str)->Path:
    "A standalone page of widget `box` (its state embedded), drawn by the html-manager at `js_url`"
    from ipywidgets.embed import embed_minimal_html
    embed_minimal_html(str(path), views=[box], title=title, requirejs=False, embed_url=js_url, cors=False)
    return path

def serve(folder:Path):
    "An HTTP server on 127.0.0.1 for `folder` (a free port), running in a thread; returns (server, base url)"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"

def shoot(urls:dict, # name -> (url, output png)
         ):
    "Open each page in headless chromium, wait for the widgets to render, screenshot the widget area"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    opts = webdriver.ChromeOptions()
    opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=700,900', '--force-device-scale-factor=1',
              '--disable-background-networking', '--disable-component-update', '--no-first-run'):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
    try:
        for name, (url, out) in urls.items():
            driver.get(url)
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.widget-vbox .fk-bubble'))
            time.sleep(0.5)  # fonts and layout settle
            el = driver.find_element(By.CSS_SELECTOR, '.jupyter-widgets.widget-vbox, .widget-vbox')
            el.screenshot(str(out))
            print(f"{name}: {out} ({el.size['width']}x{el.size['height']})")
    finally: driver.quit()

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT/'nbs'/'images'))
    ap.add_argument('--embed-js', default=None)
    ap.add_argument('--steps', type=int, default=20)
    a = ap.parse_args(argv)
    from finetune_kit.style import replies
    from finetune_kit.prompts import PAIRS
    from finetune_kit.talk import Conversation, ChatBox, BlindTest, BlindBox
    model, tok, held = train(a.steps)
    conv = Conversation(model, tok, seed=3)
    for text in ('dude i need your advice|she said she wanted to "take a break"', 'what do i even say to her'):
        print('tuned:', conv.send(text))
    conv.switch(False)
    print('base:', conv.send('ok and what about gels|are they a game changer'))
    chat_box = ChatBox(conv, name='Sam')
    chat_box.switch.value = 'base'
    probe = held[:6]
    fmt = lambda p: PAIRS.prompt.format(prompt=p)
    tuned = replies(model, tok, [p['prompt'] for p in probe], fmt=fmt, stop=['### Human:'])
    test = BlindTest([p['prompt'] for p in probe], [p['response'] for p in probe], tuned, seed=0)
    blind = BlindBox(test, name='Sam')
    blind.pick(test.rounds[0]['real'])  # one round answered: the feedback line and the score show
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    js = embed_js(a.embed_js)
    (work/'embed.js').write_bytes(js.read_bytes())
    for f in js.parent.iterdir():  # the fonts the widgets' CSS refers to
        if f.suffix in ('.woff', '.woff2', '.ttf', '.eot', '.svg'): (work/f.name).write_bytes(f.read_bytes())
    page(chat_box.box, work/'chat.html', 'embed.js', 'chat')
    page(blind.box, work/'blind.html', 'embed.js', 'blind test')
    srv, base = serve(work)
    try: shoot({'chat': (f"{base}/chat.html", out/'talk_chat.png'), 'blind': (f"{base}/blind.html", out/'talk_blind.png')})
    finally: srv.shutdown()

if __name__ == '__main__': main()
