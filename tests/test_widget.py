"Tests for finetune_kit.widget: pure functions (smoothing, plot, table, page), the console path, the throttle, and the saved HTML page in headless chromium."
import io, os, re, math, time
from pathlib import Path
import pytest
from hypothesis import given, strategies as st
from finetune_kit.widget import *
from finetune_kit.widget import _esc
from browser import probe_page, headless_chromium

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

@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=30), st.booleans())
def test_axis_limits_hold_the_values_and_are_stable(xs, zero):
    if zero: xs = [abs(x) for x in xs]
    lo, hi = axis_limits(xs, zero=zero)
    assert lo <= min(xs) and max(xs) <= hi and lo < hi
    assert axis_limits(xs, (lo, hi), zero=zero) == (lo, hi)  # unchanged data: unchanged axes (a cheap redraw)

def test_blitted_frame_equals_a_full_draw():
    "The cheap redraw (lines pasted on the kept background) gives the same pixels as drawing everything"
    import numpy as np
    from PIL import Image
    hist = [dict(step=r['step'], loss=0.9 + 0.05*(r['step'] % 3), lr=r['lr']) for r in HIST[:20]]  # fits the 1st axes
    live = LivePlot()
    live.update(hist[:3], 30).png()
    key = live._key
    blitted = live.update(hist, 30).png()
    assert live._key == key  # the axes didn't change, so this frame was blitted
    full = LivePlot().update(hist, 30)
    full.ax.set_ylim(live.ax.get_ylim())
    full.ax_lr.set_ylim(live.ax_lr.get_ylim())
    a, b = (np.asarray(Image.open(io.BytesIO(x)), dtype=float) for x in (blitted, full.png()))
    assert a.shape == b.shape == (614, 1920, 3) and np.abs(a - b).mean() < 0.5, np.abs(a - b).mean()

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
        assert d.finish(adapter_dir=tmp_path/'adapter') == 'done · 30/30 steps · 30s'
    assert '\rstep 30/30 (100%)' in tty.getvalue() and '\nWARNING: eval loss rose' in tty.getvalue()
    ci_lines = ci.getvalue().splitlines()
    assert '\r' not in ci.getvalue() and ci_lines[0] == 'tiny · LoRA · 0 trainable params · cpu'
    assert [l.split(' ·')[0] for l in ci_lines if l.startswith('step')] == ['step 1/30 (3%)', 'step 30/30 (100%)']
    assert ci_lines[-2:] == ['done · 30/30 steps · 30s', f"Adapter saved to {tmp_path/'adapter'}"]
    assert 'ETA' not in ci_lines[-3] and (tmp_path/'a.png').read_bytes()[:4] == b'\x89PNG'

def test_quiet_console_prints_nothing_but_saves_png(tmp_path, capsys):
    d = ConsoleDisplay(RunInfo('tiny'), png_path=tmp_path/'q.png', quiet=True, every=0)
    d.update(Snapshot(step=1, total=2, loss=1.), HIST[:1])
    d.log('x')
    d.finish()
    assert capsys.readouterr().out == '' and (tmp_path/'q.png').exists()

def test_console_throttle_backs_off_when_printing_is_slow():
    class Slow(io.StringIO):
        def write(self, s): time.sleep(0.02); return super().write(s)
    d = ConsoleDisplay(file=Slow(), every=0)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0: d.update(Snapshot(step=1, total=2), [])
    assert 1 <= d.draws <= 3, d.draws  # 60x a 20 ms line = 1.2 s between lines
    assert d.draw_seconds / (time.monotonic() - t0) < 0.1

def test_final_lines_tell_the_truth():
    assert final_line('interrupted', 23, 60, 45.) == 'interrupted at step 23 of 60 · 45s'
    assert final_line('failed', 7, error=RuntimeError('CUDA out of memory. Tried 2 GiB\nmore')) == \
        'failed at step 7: RuntimeError: CUDA out of memory. Tried 2 GiB'
    with pytest.raises(ValueError, match="outcome='ok'; use one of 'done'"): final_line('ok', 1)

def _alive(nd): return any(t.thread.is_alive() for t in nd._tickers)

def _wait(cond, timeout=20.):
    "Wait until `cond()` (the display's threads show things a moment after `update`)"
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, 'timed out'
        time.sleep(0.02)

def _observe(widget):
    "Every value `widget` takes from now on, with the time"
    seen = []
    widget.observe(lambda ch: seen.append((time.monotonic(), ch['new'])), names='value')
    return seen

def test_status_keeps_moving_during_a_long_step():
    "No update for 2.6 s (one slow step): elapsed and ETA still change every second"
    nd = NotebookDisplay(show=False)
    try:
        nd.update(Snapshot(step=2, total=10, elapsed=4., loss=1.5), HIST[:2])
        seen = _observe(nd.status)
        t0 = time.monotonic()
        time.sleep(2.6)
        times = [t0] + [t for t, _ in seen]
        assert len(seen) >= 2 and max(b - a for a, b in zip(times, times[1:])) < 1.3, seen
        assert 'ETA' in seen[-1][1] and seen[-1][1] != seen[0][1]
    finally: nd.finish()
    assert not _alive(nd)

def test_plot_redraws_within_budget_and_at_least_every_max_every(monkeypatch):
    "A redraw that costs 200 ms: 2% would mean one per 10 s, but the plot still changes every `max_every`"
    nd = NotebookDisplay(show=False, max_every=1.)
    nd.update(Snapshot(step=1, total=100), HIST[:1], force=True)
    _wait(lambda: nd.pane.costs)
    png = nd.pane.plot.png
    monkeypatch.setattr(nd.pane.plot, 'png', lambda: (time.sleep(0.2), png())[1])
    frames = _observe(nd.image)
    t0 = time.monotonic()
    for i in range(2, 100):  # a step every 30 ms, a logged loss every step
        nd.update(Snapshot(step=i, total=100, elapsed=i*0.03, loss=HIST[i % 30]['loss']), HIST[:i % 30 + 1])
        time.sleep(0.03)
        if time.monotonic() - t0 > 3.2: break
    interval = nd.pane.interval  # what the throttle used while the 200 ms frames ran (finish's frame is cheap)
    nd.finish()
    gaps = [b - a for (a, _), (b, _) in zip(frames, frames[1:])]
    assert 3 <= len(frames) <= 6 and max(gaps) < 1.6, (len(frames), gaps)
    assert interval == 1., (interval, nd.pane.costs)

def test_plot_interval_follows_the_cost_and_keeps_the_budget():
    "With a 10% budget the pauses after frames scale with their cost, and drawing stays near 10% of the time"
    hist = [dict(step=s, loss=2 - s/1000, lr=1e-4) for s in range(1, 400)]
    nd = NotebookDisplay(show=False, budget=0.1)
    nd.update(Snapshot(step=0, total=400), [], force=True)
    _wait(lambda: nd.pane.costs)  # the cold first frame (not counted)
    frames, t0, cold = _observe(nd.image), time.monotonic(), nd.draw_seconds
    for i in range(1, 400):
        nd.update(Snapshot(step=i, total=400, elapsed=time.monotonic() - t0), hist[:i])
        time.sleep(0.01)
        if time.monotonic() - t0 > 4: break
    nd.finish()
    wall, costs = time.monotonic() - t0, nd.pane.costs[1:]
    gaps = [b - a for (a, _), (b, _) in zip(frames, frames[1:])]
    assert len(frames) >= 4, (len(frames), costs)
    assert all(g >= min(0.5, c/0.1) - 0.15 for g, c in zip(gaps, costs)), (gaps, costs)  # no frame came too early
    assert (nd.draw_seconds - cold) / wall < 0.2, (nd.draw_seconds, cold, wall, costs)

@pytest.mark.parametrize('outcome,label,style', [('done', 'Done', 'success'), ('stopped', 'Stopped', 'warning'),
                                                 ('interrupted', 'Interrupted', 'warning'), ('failed', 'Failed', 'danger')])
def test_notebook_final_states(outcome, label, style, tmp_path):
    nd = NotebookDisplay(RunInfo('SmolLM2', 'QLoRA', 10, 100, 'cuda / float16', 'Tesla T4'), show=False)
    nd.update(Snapshot(step=12, total=30, elapsed=24., loss=1.234, tokens_per_s=1500., mem_gb=3.2, peak_gb=4.1),
              HIST[:12], force=True)
    _wait(lambda: 'ETA' in nd.status.value)
    assert 'Tesla T4' in nd.header.value and 'ETA 36s' in nd.status.value
    assert 'GPU memory 3.20 GB now, 4.10 GB peak' in nd.stats.value and '1,500 tokens/s' in nd.stats.value
    err = RuntimeError('disk <full>') if outcome == 'failed' else None
    final = nd.finish(outcome, step=12, adapter_dir=tmp_path/'adapter-step12', error=err)
    b = nd.stop_button
    assert (b.description, b.disabled, b.button_style, nd.bar.bar_style) == (label, True, style, style)
    assert nd.status.value == _esc(final) and 'ETA' not in nd.status.value
    assert final.startswith(f'{outcome} at step 12') if outcome != 'done' else final == 'done · 12/30 steps · 24s'
    assert f"<code" in nd.adapter.value and str(tmp_path/'adapter-step12') in nd.adapter.value
    if outcome == 'failed': assert 'ERROR: RuntimeError: disk &lt;full&gt;' in nd.logbox.value
    assert not _alive(nd) and nd.image.value[:4] == b'\x89PNG'

def test_finish_without_arguments_infers_the_outcome():
    "The way `fit` called it before it passed outcomes: error() then finish()"
    nd = NotebookDisplay(show=False)
    nd.update(Snapshot(step=5, total=9), [])
    nd.error(KeyboardInterrupt())
    assert nd.finish().startswith('interrupted at step 5 of 9') and nd.stop_button.description == 'Interrupted'
    assert nd.logbox.value == ''  # no empty 'ERROR: KeyboardInterrupt: '
    nd = NotebookDisplay(show=False)
    nd.update(Snapshot(step=5, total=9), [])
    nd.stop_button.click()
    assert nd.stop_button.description == 'Stopping…' and nd.finish().startswith('stopped at step 5 of 9')

def test_placeholder_before_the_first_frame():
    nd = NotebookDisplay(show=False)
    assert nd.image.layout.display == 'none' and 'appears at the first logged step' in nd.pane.placeholder.value
    nd.update(Snapshot(step=0, total=9), [])
    _wait(lambda: nd.image.layout.display != 'none')
    assert nd.image.layout.display is None and nd.pane.placeholder.layout.display == 'none'  # the 'waiting' frame
    nd.finish()

def test_no_display_thread_outlives_finish():
    import threading
    for _ in range(3):
        nd = NotebookDisplay(show=False)
        nd.update(Snapshot(step=1, total=2), HIST[:1])
        nd.finish()
    assert not [t for t in threading.enumerate() if t.name == 'finetune_kit display' and t.is_alive()]

# ---- the saved page in a real headless browser ----

PROBE = '''<script>window.addEventListener('load', () => {
  const vis = el => { if (!el) return false; const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const img = document.getElementById('fk-plot'), tab = document.querySelector('table.fk-samples');
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({img_w: img ? img.naturalWidth : 0, img_h: img ? img.naturalHeight : 0,
    css_w: img ? img.getBoundingClientRect().width : 0, img_visible: vis(img),
    table_visible: vis(tab), rows: tab ? tab.rows.length : 0, text: tab ? tab.innerText : ''});
  document.body.appendChild(pre); });</script>'''

def test_saved_page_renders_in_headless_chromium(tmp_path):
    nd = NotebookDisplay(RunInfo('SmolLM2-135M-Instruct', 'LoRA', 460_800, 134_975_808, 'cpu / float32'), show=False, every=0)
    nd.update(Snapshot(step=30, total=30, elapsed=42., loss=0.6), HIST)
    nd.show_samples(SAMPLES)
    nd.finish()
    page = nd.save_html(tmp_path/'run.html')
    r = probe_page(page, PROBE, tmp_path)
    assert (r['img_w'], r['img_h'], r['css_w']) == (1920, 614, 960) and r['img_visible'], r  # 2x pixels, 960 px shown
    assert r['table_visible'] and r['rows'] == 3 and 'pierogi later' in r['text'] and 'Tea or <b>coffee</b>?' in r['text'], r
    shot = tmp_path/'shot.png'
    p = headless_chromium(tmp_path, f'--screenshot={shot}', page.as_uri())
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
    "A click sent while `fit` runs in a real ipykernel stops the run (its main thread busy all along); no warnings"
    import queue
    jc = pytest.importorskip('jupyter_client.manager')
    km, kc = jc.start_new_kernel(kernel_name='python3', env={**os.environ, 'MPLBACKEND': 'Agg', 'HF_HUB_OFFLINE': '1'})
    try:
        mid = kc.execute(f"OUT = {str(tmp_path)!r}\n" + KERNEL_CELL)
        button, out, err, clicked, t0 = None, '', '', False, time.time()
        while time.time() - t0 < 120 and 'RESULT' not in out:
            try: m = kc.get_iopub_msg(timeout=1)
            except queue.Empty: continue
            if m['parent_header'].get('msg_id') != mid: continue
            c = m['content']
            if m['msg_type'] == 'comm_open' and c['data'].get('state', {}).get('description') == 'Stop': button = c['comm_id']
            if m['msg_type'] == 'stream': out += c['text']
            if m['msg_type'] == 'stream' and c['name'] == 'stderr': err += c['text']
            if m['msg_type'] == 'error': pytest.fail(f"{c['ename']}: {c['evalue']}")
            if 'READY' in out and not clicked:
                assert button, 'the Stop button was not shown'
                kc.shell_channel.send(kc.session.msg('comm_msg', {'comm_id': button, 'data': {'method': 'custom', 'content': {'event': 'click'}}}))
                clicked = True
        assert 'RESULT stop button True True' in out, out[-2000:]
        assert 'Warning' not in err, err  # nothing of ours warns in a notebook's output (a pink box above the widget)
    finally:
        km.shutdown_kernel(now=True)
