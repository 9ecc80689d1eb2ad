"""The live widget watched in a real browser: a short `fit` in JupyterLab and Notebook 7, on ipykernel 7 and 6.

What a user sees is checked in the page itself: the widget renders (no "Error displaying widget", no JavaScript
errors from it), the status changes at least every 2 s (one step takes 3 s on purpose), the plot changes at least 5
times, Stop ends the run within 5 s with the adapter saved, the base-vs-tuned table appears. Screenshots go to
test-artifacts/ (see tests/browser.py).

The talk widgets too: `chat` answers what is typed (Enter), as the persona's bubbles, and its switch answers from the
base model; the blind test counts three rounds and ends with the score, its buttons disabled."""
import json, re, time
from pathlib import Path
import pytest
from browser import (need_browser, jupyter_server, chrome, open_cells, wait_for, console_errors, output_text, artifact,
                     kernel_status, kernelspec_ipykernel6, find, HERE)

# A tiny model at about a real one's pace on a T4: ~0.1 s a step, logging every step, and one 3 s step (#12).
CELL = '''
import time
from transformers import AutoTokenizer, TrainerCallback
from datasets import Dataset
from peft import LoraConfig
from finetune_kit.adapters import peft_model
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit.train import fit
tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
ids = tok("### Human: How was your weekend?\\n### Assistant: hej! lazy one :) hiking, then pierogi")['input_ids']
ds = Dataset.from_dict({'input_ids': [ids]*64, 'labels': [ids]*64, 'attention_mask': [[1]*len(ids)]*64})
class Pace(TrainerCallback):
    def on_step_end(self, args, state, control, **kw): time.sleep(3 if state.global_step == 12 else 0.1)
res = fit(peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj', 'v_proj'])), tok, ds,
          output_dir=OUT, max_steps=STEPS, logging_steps=1, save_strategy='no', callbacks=[Pace()],
          prompts=['How was your weekend?'], compare_kwargs=dict(max_new_tokens=6))
print('RESULT', json.dumps({'stopped': res.stopped, 'steps': res.steps, 'adapter': str(res.adapter_dir),
                          'plot_cpu_ms': [round(1000*c) for c in res.display.pane.costs]}))
'''

# the page's state, sampled: status text, plot image (src changes with every frame), button, errors, kernel state
PROBE = HERE + '''
const q = s => here.querySelector(s), img = q('.fk-plot img') || q('img.fk-plot');
const b = q('.fk-stop');
return {status: q('.fk-status') ? q('.fk-status').innerText : null, img: img ? img.src : null,
        img_w: img ? img.naturalWidth : 0, css_w: img ? img.getBoundingClientRect().width : 0,
        button: b ? b.innerText.trim() : null, disabled: b ? b.disabled : null,
        hint: q('.fk-hint') ? q('.fk-hint').innerText : '', table: !!q('.fk-table table.fk-samples'),
        adapter: q('.fk-adapter') ? q('.fk-adapter').innerText : '', widget: !!q('.fk-widget'),
        broken: here.innerText.includes('Error displaying widget'),
        placeholder: !!q('.fk-placeholder') && q('.fk-placeholder').offsetParent !== null};
'''

@pytest.fixture(scope='module')
def servers(tmp_path_factory):
    "JupyterLab and Notebook 7 (a server each) with ipykernel 7 and two ipykernel 6 kernels, and one browser"
    need_browser()
    root = tmp_path_factory.mktemp('jupyter')
    kernels = {'ipk6': kernelspec_ipykernel6(), 'ipk6-poll': kernelspec_ipykernel6(ui_poll=True)}
    with jupyter_server(root/'lab', 'lab', kernels) as lab, jupyter_server(root/'nb', 'notebook', kernels) as nb, \
         chrome(root) as driver:
        yield {'lab': lab, 'notebook': nb}, driver

def _run(servers, ui, kernel, steps=400):
    apps, driver = servers
    server = apps[ui]
    out = server.root/f'run-{ui}-{kernel}'
    open_cells(server, driver, [f"import json\nOUT, STEPS = {str(out)!r}, {steps}\n" + CELL], kernel=kernel)
    wait_for(driver, HERE + "return !!here.querySelector('.fk-widget')", 120, 'the widget')
    return server, driver, out

def _watch(driver, seconds, until=None):
    "Sample the page every 0.1 s for `seconds` (or until `until(sample)`); [(t, sample)]"
    samples, t0 = [], time.time()
    while time.time() - t0 < seconds:
        s = driver.execute_script(PROBE)
        s['kernel'] = kernel_status(driver)
        samples.append((time.time(), s))
        if until and until(s): break
        time.sleep(0.1)
    return samples

def _running(driver, min_step=3):
    "Wait until the status shows training at step `min_step` or later; the last sample"
    is_on = lambda s: bool(re.match(r'(\d+)/\d+ · ', s['status'] or '')) and int(s['status'].split('/')[0]) >= min_step
    s = _watch(driver, 60, until=is_on)[-1][1]
    assert is_on(s), s
    return s

def _shot(driver, tag):
    "A screenshot of the page, and one of the widget alone"
    driver.save_screenshot(str(artifact(f'{tag}.png')))
    find(driver, '.fk-widget').screenshot(str(artifact(f'{tag}-widget.png')))

def _stop_and_finish(driver, out, tag):
    "Click Stop, check the run ends within 5 s and the adapter is saved, wait for the table"
    find(driver, '.fk-stop').click()
    t0 = time.time()
    samples = _watch(driver, 20, until=lambda s: (s['status'] or '').startswith('stopped at step') and s['disabled'])
    took = samples[-1][0] - t0
    s = samples[-1][1]
    assert s['status'].startswith('stopped at step') and took < 5, (took, s)
    assert s['button'] == 'Stopped' and s['disabled'] and 'ETA' not in s['status'], s
    _shot(driver, f'{tag}-2-stopped')
    wait_for(driver, HERE + "return !!here.querySelector('.fk-table table.fk-samples')", 60, 'the base-vs-tuned table')
    text = wait_for(driver, HERE + "const t = [...here.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText)"
                    ".join('\\n'); return t.includes('RESULT') ? t : null", 60, 'the RESULT line')
    r = json.loads(re.search(r'RESULT (\{.*\})', text).group(1))
    assert r['stopped'] == 'stop button' and (Path(r['adapter'])/'adapter_config.json').exists(), r
    shown = driver.execute_script(PROBE)['adapter']
    assert shown == f"Adapter saved to {r['adapter']}", shown  # the folder, as a line to copy
    _shot(driver, f'{tag}-3-final')
    return r, text

def _live_checks(samples, tag):
    "While training: the status changes at least every 2 s, the plot at least 5 times, crisp, no broken widget"
    running = [(t, s) for t, s in samples if s['status'] and re.match(r'\d+/\d+ · ', s['status'])]
    assert running, samples[-3:]
    changes = [t for (t, s), (_, p) in zip(running[1:], running) if s['status'] != p['status']]
    gaps = [b - a for a, b in zip([running[0][0]] + changes, changes + [running[-1][0]])]
    frames = {s['img'] for _, s in running if s['img']}
    last = running[-1][1]
    assert max(gaps) <= 2.0, (tag, max(gaps), [s['status'] for _, s in running][::10])
    assert len(frames) >= 5, (tag, len(frames))
    assert not any(s['broken'] for _, s in samples) and last['widget'], tag
    assert last['img_w'] >= 2*last['css_w'] > 0, last  # the PNG has twice the pixels it is shown with: crisp
    busy = [s['kernel'] for _, s in running[len(running)//3:]]  # Lab's kernel state, past the widget's first seconds
    assert set(busy) == {'busy'}, (tag, sorted(set(busy)))
    return dict(status_gap_max=round(max(gaps), 2), frames=len(frames), css_width=last['css_w'])

@pytest.mark.parametrize('ui', ['lab', 'notebook'])
def test_widget_is_live_and_stops_on_ipykernel7(servers, ui):
    server, driver, out = _run(servers, ui, 'python3')
    tag = f'{ui}-ipykernel7'
    frames, t0 = set(), time.time()
    def enough(s):  # 6 frames and past the 3 s step, or 20 s
        frames.add(s['img'])
        return len(frames - {None}) >= 6 and time.time() - t0 > 8
    samples = _watch(driver, 20, until=enough)
    _shot(driver, f'{tag}-1-training')
    live = _live_checks(samples, tag)
    r, text = _stop_and_finish(driver, out, tag)
    assert 'Traceback' not in text and 'Warning' not in text, text[-3000:]  # nothing of ours warns in the output
    errors = console_errors(driver)
    assert not errors, errors
    (artifact(f'{tag}.json')).write_text(json.dumps({**live, **r, 'page_errors': driver.page_errors}, indent=1))

def test_stop_works_on_ipykernel6_with_ui_poll(servers):
    server, driver, out = _run(servers, 'lab', 'ipk6-poll')
    s = _running(driver)
    assert s['button'] == 'Stop' and not s['disabled'] and not s['hint'], s
    r, _ = _stop_and_finish(driver, out, 'lab-ipykernel6-ui-poll')
    assert not console_errors(driver)

def test_ipykernel6_without_ui_poll_says_how_to_stop_and_interrupt_ends_cleanly(servers):
    "No way to deliver a click: the button is disabled, the hint says to interrupt; the interrupt ends it truthfully"
    server, driver, out = _run(servers, 'notebook', 'ipk6')
    s = _running(driver)
    assert s['disabled'] and 'interrupt the kernel' in s['hint'] and 'jupyter-ui-poll' in s['hint'], s
    _shot(driver, 'notebook-ipykernel6-1-hint')
    driver.execute_script("window.jupyterapp.commands.execute('kernelmenu:interrupt')")
    s = _watch(driver, 20, until=lambda s: (s['status'] or '').startswith('interrupted at step') and not s['hint'])[-1][1]
    assert s['status'].startswith('interrupted at step') and s['button'] == 'Interrupted' and s['hint'] == '', s
    assert list(out.glob('adapter-step*/adapter_config.json')), list(out.iterdir())
    assert 'ERROR: KeyboardInterrupt' not in output_text(driver)
    _shot(driver, 'notebook-ipykernel6-2-interrupted')


# ---- the talk widgets (finetune_kit.talk): typed into and clicked the way a user does ----
TALK = '''
from transformers import AutoTokenizer
from peft import LoraConfig
from finetune_kit.adapters import peft_model
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit.talk import chat, blind_test
tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
model = peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj', 'v_proj']))
box = chat(model, tok, name='Sam', notebook=True, max_new_tokens=6)
box
'''
BLIND = '''
blind = blind_test(['dinner thursday?', 'i am so tired', 'we won!'], ['ooh|where', 'sleep|seriously', 'lets gooo'],
                   ['sure', 'me too', 'nice'], name='Sam', notebook=True)
blind
'''
TALK_PROBE = HERE + '''
const chat = here.querySelector('.fk-chat'), input = here.querySelector('.widget-text input');
const buttons = [...here.querySelectorAll('button')].map(b => ({text: b.innerText.trim(), disabled: b.disabled}));
return {chat: chat ? chat.innerText : null, input: input ? input.value : null, buttons: buttons,
        bubbles: [...here.querySelectorAll('.fk-chat .fk-burst')].map(b => b.querySelector('.fk-user') ? 'user' :
                 b.querySelector('.fk-base') ? 'base' : b.querySelector('.fk-tuned') ? 'tuned' : 'other'),
        broken: here.innerText.includes('Error displaying widget'), text: here.innerText};
'''

def _button(driver, label):
    "The button whose text is `label` in the open notebook"
    b = driver.execute_script(HERE + " return [...here.querySelectorAll('button')]"
                              ".find(b => b.innerText.trim() === arguments[0]) || null;", label)
    assert b is not None, (label, driver.execute_script(TALK_PROBE)['buttons'])
    return b

def _send(driver, text, side, n):
    "Type `text` and press Enter; wait for the reply burst number `n` (by `side`) and the box to be empty again"
    from selenium.webdriver.common.keys import Keys
    find(driver, '.widget-text input').send_keys(text + Keys.ENTER)
    t0 = time.time()
    while time.time() - t0 < 60:
        s = driver.execute_script(TALK_PROBE)
        if len(s['bubbles']) >= n and s['input'] == '': break
        time.sleep(0.1)
    assert s['bubbles'][n - 2:n] == ['user', side] and s['input'] == '', s
    assert f'Sam · {side}' in s['chat'] and text.split('|')[0] in s['chat'], s['chat']
    return s

@pytest.mark.parametrize('ui', ['lab', 'notebook'])
def test_chat_and_blind_test_in_the_browser(servers, ui):
    "chat: Enter sends, the reply comes as Sam's bubbles, the switch answers from the base model; the blind test scores"
    apps, driver = servers
    open_cells(apps[ui], driver, [TALK, BLIND], name=f'talk-{ui}.ipynb')
    wait_for(driver, HERE + "return !!here.querySelector('.fk-chat') && [...here.querySelectorAll('button')]"
             ".some(b => b.innerText.trim() === 'A is really Sam')", 120, 'the chat and blind-test widgets')
    _send(driver, 'dude i need your advice', 'tuned', 2)
    _button(driver, 'base').click()
    s = _send(driver, 'she said she wanted a break', 'base', 4)
    assert s['bubbles'] == ['user', 'tuned', 'user', 'base'] and not s['broken'], s
    find(driver, '.fk-chat').screenshot(str(artifact(f'talk-{ui}-chat.png')))
    for r in range(3):
        wait_for(driver, HERE + f"return here.innerText.includes('Round {r + 1} of 3')", 20, f'round {r + 1}')
        _button(driver, 'A is really Sam').click()
        wait_for(driver, HERE + f"return here.innerText.includes('round {r + 1}: ')", 20, f'the answer to round {r + 1}')
    s = driver.execute_script(TALK_PROBE)
    done = re.search(r'Done: the model passed for Sam in (\d) of 3 rounds', s['text'])
    assert done, s['text'][-400:]
    assert all(b['disabled'] for b in s['buttons'] if b['text'].endswith('is really Sam')), s['buttons']
    widget_errors = [e for e in console_errors(driver) if 'widget' in e['message'].lower()]
    assert not widget_errors, widget_errors
