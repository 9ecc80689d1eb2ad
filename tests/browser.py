"""A real browser for notebook tests: JupyterLab 4 or Notebook 7 on 127.0.0.1 with a token, driven by headless Debian
chromium through selenium and /usr/bin/chromedriver (never a downloaded driver).

Reusable by any test that must see a widget the way a user does:

    with jupyter_server(tmp_path, 'notebook') as server, chrome(tmp_path) as driver:
        open_cells(server, driver, ['import ipywidgets as W; W.Button(description="hi")'])
        wait_for(driver, "return document.querySelector('.widget-button') !== null")
        driver.save_screenshot(str(artifact('button.png')))

`kernelspec_ipykernel6(...)` adds a second kernel running ipykernel 6 (Colab's line) on this venv's packages.
Everything this module starts is stopped by PID when its `with` block ends.
"""
import html, json, os, re, shutil, socket, subprocess, sys, time, urllib.request, secrets
from contextlib import contextmanager
from pathlib import Path
import pytest

CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-dev-shm-usage']
ARTIFACTS = Path(os.environ.get('FK_TEST_ARTIFACTS') or Path(__file__).resolve().parent.parent/'test-artifacts')
IPYKERNEL6 = ('ipykernel==6.31.0', 'nest-asyncio==1.6.0')  # installed with --no-deps: the rest comes from this venv
UI_POLL = ('jupyter-ui-poll==1.1.0',)

def need_browser():
    "Skip when the browser stack is missing; in CI (`CI` set) fail instead, since `.ci/run` installs it"
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    for mod in ('selenium', 'jupyterlab', 'notebook'):
        try: __import__(mod)
        except ImportError: missing.append(f'python package {mod}')
    if not missing: return
    msg = f"real-browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver; pip install -e '.[dev]')"
    if os.environ.get('CI'): pytest.fail(msg)
    pytest.skip(msg)

def chromium_binary()->str:
    "Debian's chromium (or another chromium/chrome on PATH); missing: a failure in CI (`CI` set), a skip elsewhere"
    names = (CHROMIUM, shutil.which('chromium'), shutil.which('chromium-browser'), shutil.which('google-chrome'))
    found = next((n for n in names if n and Path(n).exists()), None)
    if found: return found
    if os.environ.get('CI'): pytest.fail('chromium is not installed but CI is set: .ci/run must install it')
    pytest.skip('chromium not installed (apt-get install chromium); skipped outside CI')

def headless_chromium(profile:Path, # a fresh --user-data-dir goes under it
                      *args, # e.g. '--dump-dom', url or f'--screenshot={png}', url
                      window:str='1200,1000', # the window size, 'W,H'
                     )->subprocess.CompletedProcess:
    "One run of headless chromium (no server, no driver): for static pages"
    flags = FLAGS + [f'--user-data-dir={profile/"chromium-profile"}', f'--window-size={window}']
    return subprocess.run([chromium_binary(), *flags, *args], capture_output=True, text=True, timeout=90)

def probe_page(page:Path, # an HTML file
               probe:str, # a <script> that, on load, appends <pre id="probe">JSON</pre> to the body
               profile:Path, # where chromium's profile goes
               window:str='1200,1000', budget_ms:int=5000, # window size; virtual time the page gets to settle
              )->dict:
    "`page` rendered in headless chromium with `probe` injected: what the probe measured"
    text = page.read_text(encoding='utf-8')
    probed = page.with_name(f"{page.stem}.probed.html")
    probed.write_text(text.replace('</body>', probe + '</body>') if '</body>' in text else text + probe, encoding='utf-8')
    p = headless_chromium(profile, f'--virtual-time-budget={budget_ms}', '--dump-dom', probed.as_uri(), window=window)
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return json.loads(html.unescape(m.group(1)))

def artifact(name:str)->Path:
    "A path under the test-artifacts folder (gitignored), for screenshots and logs"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS/name

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

class Server:
    "A running Jupyter server: its `app` ('lab' or 'notebook'), base `url`, `token`, `root` folder and process"
    def __init__(self, app, url, token, root, proc, log):
        self.app, self.url, self.token, self.root, self.proc, self.log = app, url, token, root, proc, log
    def api(self, path:str, method:str='GET'):
        req = urllib.request.Request(f"{self.url}/api/{path}", method=method, headers={'Authorization': f'token {self.token}'})
        with urllib.request.urlopen(req, timeout=10) as r: body = r.read()
        return json.loads(body) if body else None

@contextmanager
def jupyter_server(root:Path, # notebooks go here; config, data and runtime folders of its own go in root/.jupyter
                   app:str='lab', # 'lab' (JupyterLab) or 'notebook' (Notebook 7), each its own server
                   kernels:dict|None=None, # extra kernelspecs: name -> kernel.json dict
                   env:dict|None=None, # more environment variables for the server and its kernels
                   timeout:float=90.,
                  ):
    "JupyterLab or Notebook 7 on 127.0.0.1 with a random token, isolated from the user's Jupyter config; stopped by PID"
    if app not in ('lab', 'notebook'): raise ValueError(f"jupyter_server: app={app!r}; use 'lab' or 'notebook'")
    root, home = Path(root), Path(root)/'.jupyter'
    for k, spec in (kernels or {}).items():
        (home/'data'/'kernels'/k).mkdir(parents=True, exist_ok=True)
        (home/'data'/'kernels'/k/'kernel.json').write_text(json.dumps(spec))
    labconfig = home/'config'/'labconfig'
    labconfig.mkdir(parents=True, exist_ok=True)  # no 'get Jupyter news?' toast, no update check
    (labconfig/'page_config.json').write_text(json.dumps({'disabledExtensions': {
        '@jupyterlab/apputils-extension:announcements': True}}))
    port, token = _free_port(), secrets.token_hex(16)
    e = {**os.environ, 'JUPYTER_CONFIG_DIR': str(home/'config'), 'JUPYTER_DATA_DIR': str(home/'data'),
         'JUPYTER_RUNTIME_DIR': str(home/'runtime'), 'IPYTHONDIR': str(home/'ipython'), 'JUPYTER_PLATFORM_DIRS': '1',
         'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false',
         'OMP_NUM_THREADS': '1', **(env or {})}
    Lab = 'LabApp' if app == 'lab' else 'JupyterNotebookApp'
    cmd = [sys.executable, '-m', 'jupyterlab' if app == 'lab' else 'notebook', '--no-browser', '--ip=127.0.0.1',
           f'--port={port}', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           f'--{Lab}.expose_app_in_browser=True', '--ServerApp.terminals_enabled=False', '--allow-root']  # CI: root
    if app == 'lab': cmd += ['--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                             '--LabApp.extension_manager=readonly']
    log = open(artifact(f'jupyter-{app}-{port}.log'), 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=e, cwd=root, start_new_session=True)
    server = Server(app, f'http://127.0.0.1:{port}', token, root, proc, log.name)
    try:
        t0 = time.time()
        while True:
            if proc.poll() is not None: raise RuntimeError(f"jupyter {app} exited ({proc.returncode}); see {log.name}")
            try:
                server.api('status')
                break
            except OSError:
                if time.time() - t0 > timeout: raise RuntimeError(f"jupyter {app} didn't answer in {timeout} s; see {log.name}")
                time.sleep(0.3)
        yield server
    finally:
        _stop(proc)
        log.close()

def _stop(proc):
    "Stop a server by PID: its kernels (its child processes; test kernels, nothing to save) first, then the server"
    import psutil
    try: kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess: kids = []
    for k in kids:
        try: k.kill()
        except psutil.NoSuchProcess: pass
    proc.terminate()
    try: proc.wait(15)
    except subprocess.TimeoutExpired: proc.kill()
    psutil.wait_procs(kids, timeout=5)

@contextmanager
def chrome(profile:Path, # a fresh --user-data-dir goes under it
           width:int=1280, height:int=1500, # window size in CSS pixels
          ):
    "Headless chromium via /usr/bin/chromedriver, console messages recorded; quit at the end"
    os.environ.setdefault('SE_OFFLINE', 'true')  # selenium-manager must never fetch a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in FLAGS + [f'--user-data-dir={Path(profile)/"chromium-profile"}', f'--window-size={width},{height}']:
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    service = Service(CHROMEDRIVER, log_output=str(artifact('chromedriver.log')))
    driver = webdriver.Chrome(service=service, options=opts)
    try: yield driver
    finally:
        driver.quit()
        if service.process and service.process.poll() is None: service.process.kill()

def wait_for(driver, script:str, # JavaScript whose return value decides (truthy: done)
             timeout:float=60., what:str|None=None, # what is awaited, for the error message
             every:float=0.1,
            ):
    "Run `script` in the page until it returns something truthy; return that"
    t0 = time.time()
    while True:
        try: r = driver.execute_script(script)
        except Exception as e: r, err = None, e  # the page may be navigating
        if r: return r
        if time.time() - t0 > timeout:
            driver.save_screenshot(str(artifact('timeout.png')))
            raise TimeoutError(f"waited {timeout:.0f} s for {what or script} (page: {artifact('timeout.png')})")
        time.sleep(every)

NOTEBOOK_PANEL = "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; " \
                 "const p = w && w.sessionContext ? w : null;"

def open_cells(server:Server, driver,
               cells:list, # code cells (strings)
               kernel:str='python3', # kernelspec name
               name:str|None=None, # notebook file name (default: one per kernel and app)
               run:bool=True, # run all cells once the kernel is ready
               timeout:float=90.,
              ):
    "Write `cells` as a notebook in the server's root, open it in the server's UI (Lab or Notebook 7), run it"
    ui = server.app
    name = name or f"{ui}-{kernel}.ipynb"
    nb = {'cells': [{'cell_type': 'code', 'execution_count': None, 'id': f'c{i}', 'metadata': {}, 'outputs': [],
                     'source': c} for i, c in enumerate(cells)],
          'metadata': {'kernelspec': {'name': kernel, 'display_name': kernel, 'language': 'python'}},
          'nbformat': 4, 'nbformat_minor': 5}
    (server.root/name).write_text(json.dumps(nb))
    path = 'lab/tree' if ui == 'lab' else 'notebooks'
    driver.get(f"{server.url}/{path}/{name}?token={server.token}")
    wait_for(driver, NOTEBOOK_PANEL + f" return p && p.context && p.context.path === {json.dumps(name)} && "
             "p.sessionContext.session && p.sessionContext.session.kernel && "
             "p.sessionContext.session.kernel.connectionStatus === 'connected' && "
             "p.sessionContext.session.kernel.status === 'idle'", timeout, f'the {kernel} kernel in {ui} to be idle')
    driver.page_errors = console_errors(driver)  # what the page itself logged while loading (not the cells' doing)
    if run: driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")  # not awaited
    return driver

HERE = "const here = (window.jupyterapp && window.jupyterapp.shell.currentWidget || {}).node || document;"

def find(driver, css:str):
    "The first element matching `css` in the open notebook (JupyterLab keeps other tabs' widgets in the page)"
    return driver.execute_script(HERE + " return here.querySelector(arguments[0]);", css)

def kernel_status(driver)->str|None:
    "The kernel's execution state as the page shows it ('busy', 'idle', ...)"
    return driver.execute_script(NOTEBOOK_PANEL + " return p && p.sessionContext.session && "
                                 "p.sessionContext.session.kernel ? p.sessionContext.session.kernel.status : null")

def console_errors(driver, ignore:tuple=())->list:
    "SEVERE messages from the page's JavaScript console since the last call (minus those containing an `ignore` text)"
    return [e for e in driver.get_log('browser') if e['level'] == 'SEVERE' and not any(i in e['message'] for i in ignore)]

def output_text(driver)->str:
    "All text in the open notebook's output areas"
    return driver.execute_script(HERE + " return [...here.querySelectorAll('.jp-OutputArea-output')]"
                                 ".map(e => e.innerText).join('\\n')")

def _pip_target(folder:Path, packages:tuple)->Path:
    "`packages` installed (without dependencies) into `folder`, once"
    done = folder/'.installed'
    if done.exists() and done.read_text() == ' '.join(packages): return folder
    shutil.rmtree(folder, ignore_errors=True)
    p = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', str(folder), *packages],
                       capture_output=True, text=True, timeout=300)
    if p.returncode:
        msg = f"pip install --target {folder} {' '.join(packages)} failed:\n{p.stderr[-2000:]}"
        if os.environ.get('CI'): pytest.fail(msg)
        pytest.skip(msg)
    done.write_text(' '.join(packages))
    return folder

def kernelspec_ipykernel6(ui_poll:bool=False, # also install jupyter-ui-poll (makes Stop work on ipykernel 6)
                         )->dict:
    "A kernel.json running ipykernel 6 (Colab's line) on this venv's packages, via a PYTHONPATH folder"
    cache = Path(sys.prefix)/'finetune_kit-test'
    paths = [_pip_target(cache/'ipykernel6', IPYKERNEL6)] + ([_pip_target(cache/'ui-poll', UI_POLL)] if ui_poll else [])
    name = 'ipykernel 6' + (' + jupyter-ui-poll' if ui_poll else '')
    return {'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'], 'display_name': name,
            'language': 'python', 'env': {'PYTHONPATH': os.pathsep.join(map(str, paths))}}
