"""Regenerate the widget screenshots in nbs/images/ (shown in nbs/05_widget.ipynb): the quotes demo (the README's
`finetune_kit_demo`, the offline default model) run in JupyterLab through the test harness; one shot of the widget
while it trains, one after Stop with the base-vs-tuned table. A few minutes on CPU.
Usage: python tests/widget_screenshots.py [--out nbs/images] [--stop-at 24]"""
import argparse, re, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from browser import jupyter_server, chrome, open_cells, wait_for, find, HERE

ap = argparse.ArgumentParser()
ap.add_argument('--out', default=str(Path(__file__).resolve().parent.parent/'nbs'/'images'))
ap.add_argument('--shoot-at', type=int, default=14, help='step of the "while training" screenshot')
ap.add_argument('--stop-at', type=int, default=24, help='step at which Stop is clicked')
a = ap.parse_args()
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
CELL = "from finetune_kit.demo import run_quotes\nres, rates = run_quotes(steps=40, out=OUT)"

def step(driver)->int:
    m = re.match(r'(\d+)/\d+ · ', driver.execute_script(HERE + "const s = here.querySelector('.fk-status');"
                                                       "return s ? s.innerText : ''") or '')
    return int(m.group(1)) if m else -1

with tempfile.TemporaryDirectory() as tmp, jupyter_server(Path(tmp), 'lab') as server, \
     chrome(Path(tmp), width=1500, height=2600) as driver:
    open_cells(server, driver, [f"OUT = {str(Path(tmp)/'run')!r}\n" + CELL], run=False)
    driver.execute_script("window.jupyterapp.commands.execute('application:toggle-left-area')")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_for(driver, HERE + "return !!here.querySelector('.fk-widget')", 300, 'the widget')
    while step(driver) < a.shoot_at: time.sleep(0.2)
    time.sleep(1.5)  # the frame with the latest points
    find(driver, '.fk-widget').screenshot(str(out/'widget_training.png'))
    while step(driver) < a.stop_at: time.sleep(0.2)
    find(driver, '.fk-stop').click()
    wait_for(driver, HERE + "return !!here.querySelector('.fk-table table.fk-samples')", 600, 'the table')
    time.sleep(1)
    shot = out/'widget_final.png'
    find(driver, '.fk-widget').screenshot(str(shot))
    # keep the table's first three prompts: the widget's top to the fourth row, the table's width
    box = driver.execute_script(HERE + "const w = here.querySelector('.fk-widget').getBoundingClientRect(), "
                                "t = here.querySelector('.fk-table table'), r = t.rows[Math.min(3, t.rows.length - 1)];"
                                "return [t.getBoundingClientRect().right - w.left, r.getBoundingClientRect().bottom - w.top]")
    from PIL import Image
    Image.open(shot).crop((0, 0, round(box[0]) + 2, round(box[1]))).save(shot, optimize=True)
    im = Image.open(out/'widget_training.png')
    im.crop((0, 0, min(im.size[0], 960), im.size[1])).save(out/'widget_training.png', optimize=True)
print('saved', out/'widget_training.png', out/'widget_final.png')
