"Tests for finetune_kit.widget: pure functions (smoothing, plot, table, page), the console path, the throttle, and the saved HTML page in headless chromium."
import io, os, re, json, math, shutil, subprocess, time
from pathlib import Path
import pytest
from hypothesis import given, strategies as st
from finetune_kit.widget import *
from finetune_kit.widget import _esc

os.environ.setdefault('MPLBACKEND', 'Agg')

HIST = [dict(step=s, loss=3*math.exp(-s/10)+0.5, lr=1e-4*(1-s/31), **({'eval_loss': 3*math.exp(-s/10)+0.7} if s % 10 == 0 else {}))
        for s in range(1, 31)]
SAMPLES = [{'prompt': 'How was your day?', 'base': 'As an AI, I do not have days.', 'tuned': 'hej! long one, pierogi later :)'},
           {'prompt': 'Tea or <b>coffee</b>?', 'base': 'Both have benefits.', 'tuned': 'coffee!! always :)'}]

@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.none()), max_size=50), st.floats(0, 0.99))
def test_smooth_keeps_length_and_stays_within_range(xs, beta):
    out = smooth(xs, beta)
    assert len(out) == len(xs)
    seen = [x for x in xs if x is not None]
    for i, o in enumerate(out):
        prev = [x for x in xs[:i+1] if x is not None]
        if not prev: assert o is None
        else: assert min(prev) - 1e-6*max(1, abs(min(prev))) <= o <= max(prev) + 1e-6*max(1, abs(max(prev)))

def test_plot_history_lines_and_empty_state():
    fig = plot_history(HIST, total=40)
    ax, ax_lr = fig.axes
    lines = {l.get_label(): l for l in ax.get_lines()}
    assert list(lines) == ['train loss', 'smoothed', 'eval loss']
    assert list(lines['eval loss'].get_xdata()) == [10, 20, 30] and ax.get_xlim() == (0, 40)
    assert len(ax_lr.get_lines()[0].get_xdata()) == 30
    empty = plot_history([])
    assert 'waiting for the first logged loss' in empty.axes[0].texts[0].get_text()
    assert figure_png(empty)[:4] == b'\x89PNG'

def test_samples_html_escapes_and_orders_checkpoint_columns():
    rows = [dict(SAMPLES[1], checkpoints={20: 'tea', 10: 'hm'})]
    t = samples_html(rows)
    heads = re.findall(r'<th[^>]*>(.*?)</th>', t)
    assert heads == ['prompt', 'base', 'step 10', 'step 20', 'tuned']
    assert '&lt;b&gt;coffee&lt;/b&gt;' in t and '<b>coffee' not in t
    cells = re.findall(r'<td[^>]*>(.*?)</td>', t)
    assert cells == ['Tea or &lt;b&gt;coffee&lt;/b&gt;?', 'Both have benefits.', 'hm', 'tea', 'coffee!! always :)']

def test_console_display_tty_and_ci_modes(tmp_path):
    class Tty(io.StringIO):
        def isatty(self): return True
    tty, ci = Tty(), io.StringIO()
    d1 = ConsoleDisplay(RunInfo('tiny'), file=tty, png_path=tmp_path/'a.png')
    d2 = ConsoleDisplay(RunInfo('tiny'), file=ci)
    assert (d1.every, d2.every) == (0.5, 10.)
    for d in (d1, d2):
        for r in HIST: d.update(Snapshot(step=r['step'], total=30, elapsed=r['step'], loss=r['loss']), HIST[:r['step']])
        d.log('eval loss rose')
        d.finish()
    assert '\rstep 30/30 (100%)' in tty.getvalue() and '\nWARNING: eval loss rose' in tty.getvalue()
    ci_lines = ci.getvalue().splitlines()
    assert '\r' not in ci.getvalue() and ci_lines[0] == 'tiny · LoRA · 0 trainable params · cpu'
    assert [l.split(' ·')[0] for l in ci_lines if l.startswith('step')] == ['step 1/30 (3%)', 'step 30/30 (100%)']
    assert (tmp_path/'a.png').read_bytes()[:4] == b'\x89PNG' and not (tmp_path/'b.png').exists()

def test_quiet_console_prints_nothing_but_saves_png(tmp_path, capsys):
    d = ConsoleDisplay(RunInfo('tiny'), png_path=tmp_path/'q.png', quiet=True, every=0)
    d.update(Snapshot(step=1, total=2, loss=1.), HIST[:1]); d.log('x'); d.finish()
    assert capsys.readouterr().out == '' and (tmp_path/'q.png').exists()

def test_throttle_backs_off_when_drawing_is_slow():
    class Slow(ConsoleDisplay):
        def _draw(self): time.sleep(0.02)
    d = Slow(quiet=True, every=0)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0: d.update(Snapshot(step=1, total=2), [])
    assert 1 <= d.draws <= 3, d.draws  # 60x the 20 ms draw = 1.2 s between draws
    assert d.draw_seconds / (time.monotonic() - t0) < 0.1

def test_notebook_display_widget_state():
    nd = NotebookDisplay(RunInfo('SmolLM2', 'QLoRA', 10, 100, 'cuda / float16', 'Tesla T4'), show=False, every=0)
    nd.update(Snapshot(step=12, total=30, elapsed=24., loss=1.234, tokens_per_s=1500., mem_gb=3.2, peak_gb=4.1), HIST[:12])
    assert 'Tesla T4' in nd.header.value and 'QLoRA' in nd.header.value
    assert (nd.bar.value, nd.bar.max) == (12, 30) and 'ETA 36s' in nd.status.value
    assert 'GPU memory 3.20 GB now, 4.10 GB peak' in nd.stats.value and '1,500 tokens/s' in nd.stats.value
    png1 = bytes(nd.image.value)
    assert not nd.update(Snapshot(step=29, total=30, elapsed=59.), HIST[:29])  # throttled: 60x the last draw's time
    assert nd.update(Snapshot(step=30, total=30, elapsed=60.), HIST, force=True)
    assert bytes(nd.image.value) != png1 and nd.image.value[:4] == b'\x89PNG'
    nd.error(ValueError('bad <row>'))
    assert 'ERROR: ValueError: bad &lt;row&gt;' in nd.logbox.value
    nd.show_samples(SAMPLES); assert 'pierogi later' in nd.table.value

# ---- the saved page in a real headless browser ----

def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    if os.environ.get('CI'): pytest.fail('chromium is not installed but CI is set: .ci/run must install it (apt-get install chromium)')
    pytest.skip('chromium not installed (apt-get install chromium); skipped outside CI')

PROBE = '''<script>window.addEventListener('load', () => {
  const vis = el => { if (!el) return false; const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const img = document.getElementById('fk-plot'), tab = document.querySelector('table.fk-samples');
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({img_w: img ? img.naturalWidth : 0, img_h: img ? img.naturalHeight : 0, img_visible: vis(img),
    table_visible: vis(tab), rows: tab ? tab.rows.length : 0, text: tab ? tab.innerText : ''});
  document.body.appendChild(pre); });</script>'''

def _chrome(binary, tmp_path, *args):
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', f'--user-data-dir={tmp_path/"profile"}', '--window-size=1200,1000']
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=90)

def test_saved_page_renders_in_headless_chromium(tmp_path):
    binary = _chromium()
    nd = NotebookDisplay(RunInfo('SmolLM2-135M-Instruct', 'LoRA', 460_800, 134_975_808, 'cpu / float32'), show=False, every=0)
    nd.update(Snapshot(step=30, total=30, elapsed=42., loss=0.6), HIST); nd.show_samples(SAMPLES); nd.finish()
    page = nd.save_html(tmp_path/'run.html')
    probed = tmp_path/'probed.html'
    probed.write_text(page.read_text().replace('</body>', PROBE + '</body>'))
    p = _chrome(binary, tmp_path, '--virtual-time-budget=5000', '--dump-dom', probed.as_uri())
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    import html as _h
    r = json.loads(_h.unescape(m.group(1)))
    assert r['img_w'] == 640 and r['img_h'] == 224 and r['img_visible'], r   # the PNG decoded at 8x2.8 in, 80 dpi
    assert r['table_visible'] and r['rows'] == 3 and 'pierogi later' in r['text'] and 'Tea or <b>coffee</b>?' in r['text'], r
    shot = tmp_path/'shot.png'
    p = _chrome(binary, tmp_path, f'--screenshot={shot}', page.as_uri())
    assert shot.exists(), p.stderr[-2000:]
    import matplotlib.image as mpimg, numpy as np
    px = mpimg.imread(shot)[..., :3]
    assert px.shape[0] >= 500 and px.std() > 0.05, px.std()
    assert (px.sum(-1) < 2.7).mean() > 0.005  # a share of non-white pixels: text, the plot's lines, the table
    blueish = (px[..., 2] > px[..., 0] + 0.2).mean()  # the tab:blue loss curve is drawn
    assert blueish > 0.0005, blueish

# ---- the Stop button in a real kernel ----

KERNEL_CELL = '''
from transformers import AutoTokenizer, TrainerCallback
from datasets import Dataset
from peft import LoraConfig
from finetune_kit.adapters import peft_model
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit.train import fit
tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
ids = [[5, 6, 7, 8, 9, 10, 11, 12]]*16
ds = Dataset.from_dict({'input_ids': ids, 'labels': ids, 'attention_mask': [[1]*8]*16})
class Ready(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        if state.global_step == 2: print('READY', flush=True)
res = fit(peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj'])), tok, ds, output_dir=OUT,
          max_steps=100000, callbacks=[Ready()])
print('RESULT', res.stopped, res.steps < 100000, (res.adapter_dir/'adapter_config.json').exists(), flush=True)
'''

def test_stop_button_click_reaches_a_busy_kernel(tmp_path):
    "A click sent while `fit` runs in a real ipykernel stops the run (the kernel's main thread is busy all along)"
    import queue
    jc = pytest.importorskip('jupyter_client.manager')
    km, kc = jc.start_new_kernel(kernel_name='python3', env={**os.environ, 'MPLBACKEND': 'Agg', 'HF_HUB_OFFLINE': '1'})
    try:
        mid = kc.execute(f"OUT = {str(tmp_path)!r}\n" + KERNEL_CELL)
        button, out, clicked, t0 = None, '', False, time.time()
        while time.time() - t0 < 120 and 'RESULT' not in out:
            try: m = kc.get_iopub_msg(timeout=1)
            except queue.Empty: continue
            if m['parent_header'].get('msg_id') != mid: continue
            c = m['content']
            if m['msg_type'] == 'comm_open' and c['data'].get('state', {}).get('description') == 'Stop': button = c['comm_id']
            if m['msg_type'] == 'stream': out += c['text']
            if m['msg_type'] == 'error': pytest.fail(f"{c['ename']}: {c['evalue']}")
            if 'READY' in out and not clicked:
                assert button, 'the Stop button was not shown'
                kc.shell_channel.send(kc.session.msg('comm_msg', {'comm_id': button, 'data': {'method': 'custom', 'content': {'event': 'click'}}}))
                clicked = True
        assert 'RESULT stop button True True' in out, out[-2000:]
    finally:
        km.shutdown_kernel(now=True)
