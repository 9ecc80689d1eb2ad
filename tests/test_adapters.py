"Bad-input and accounting tests for finetune_kit.adapters (tiny models; the 4-bit default-model run is in test_adapters_qlora.py)"
import warnings
import pytest, torch
from torch import nn
from finetune_kit.models import tiny_model, load_model
from finetune_kit.testing import fake_gpu
from finetune_kit.adapters import (find_targets, check_config, estimate_memory, lora, lora_config, adalora, adalora_config,
                                   qlora_config, AdaLoraCallback, adalora_ranks, is_adalora, known_config, _meta_model, GB,
                                   set_checkpointing)


@pytest.fixture(scope='module')
def default():
    return load_model(quiet=True)


# --- find_targets ---------------------------------------------------------------------------------------------------

class WithHeadNamedLikeALayer(nn.Module):
    "A head whose name suffix also names inner layers: suffixes alone would adapt the head too"
    def __init__(self):
        super().__init__()
        self.block = nn.ModuleDict({'out_proj': nn.Linear(8, 8), 'fc': nn.Linear(8, 8)})
        self.out_proj = nn.Linear(8, 4)
    def get_output_embeddings(self): return self.out_proj


def test_find_targets_uses_full_names_when_a_suffix_would_catch_the_head():
    t = find_targets(WithHeadNamedLikeALayer())
    assert t == ['fc', 'block.out_proj']


def test_find_targets_on_meta_and_4bit_default_sizes():
    t = find_targets(_meta_model(known_config('7B')))
    assert t == ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']


def test_find_targets_other_architecture_without_table():
    from transformers import OPTConfig, OPTForCausalLM  # not among the tiny kinds: names found by inspection
    m = OPTForCausalLM(OPTConfig(vocab_size=100, hidden_size=16, ffn_dim=32, num_hidden_layers=1, num_attention_heads=2,
                                 word_embed_proj_dim=16, max_position_embeddings=64))
    assert find_targets(m) == ['k_proj', 'v_proj', 'q_proj', 'out_proj', 'fc1', 'fc2']


# --- validation: one test per rule -----------------------------------------------------------------------------------

def test_rule_bf16_on_t4_suggests_fp16():
    with fake_gpu(), pytest.raises(ValueError, match="use dtype='float16'"):
        check_config(tiny_model('llama'), dtype='bf16')


def test_rule_auto_on_t4_switches_with_warning():
    with fake_gpu(), pytest.warns(UserWarning, match='no bf16'):
        assert check_config(tiny_model('llama'), 'qlora', dtype='auto')['dtype'] == torch.float16


def test_rule_unknown_targets_lists_existing():
    with pytest.raises(ValueError, match=r"\['c_attn', 'c_proj', 'c_fc'\]"):
        lora_config(tiny_model('gpt2'), targets=['q_proj', 'v_proj'])


@pytest.mark.parametrize('r,alpha,what', [(0, 16, 'r=0'), (-4, 16, 'r=-4'), (8, 0, 'alpha=0'), (8, -1, 'alpha=-1'), (2.5, 16, 'r=2.5')])
def test_rule_rank_and_alpha_positive(r, alpha, what):
    with pytest.raises(ValueError, match=what):
        lora_config(tiny_model('llama'), r=r, alpha=alpha)


def test_rule_adalora_needs_schedule():
    with pytest.raises(ValueError, match='schedule length'):
        adalora_config(tiny_model('llama'), total_steps=0)
    with pytest.raises(ValueError, match='no rank-allocation phase'):
        adalora_config(tiny_model('llama'), total_steps=10, tinit=4, tfinal=6)


def test_rule_4bit_optimizer_and_dtype():
    with pytest.raises(ValueError, match='paged_adamw_8bit'):
        qlora_config(tiny_model('llama'), optimizer='galore_adamw_8bit')
    with pytest.raises(ValueError, match="can't be a compute dtype"):
        qlora_config(tiny_model('llama'), dtype=torch.float64)
    with fake_gpu(), pytest.raises(ValueError, match='has no bf16'):
        qlora_config(tiny_model('llama'), dtype='bfloat16')


def test_rule_reentrant_checkpointing_needs_input_grads():
    with pytest.raises(ValueError, match='enable_input_require_grads'):
        check_config(tiny_model('llama'), 'lora', gradient_checkpointing=True, use_reentrant=True)
    check_config(tiny_model('llama'), 'full', gradient_checkpointing=True, use_reentrant=True)  # full FT: base trains


def test_rule_reentrant_without_input_grads_really_fails():
    "The rule guards a real failure: the adapters get no gradient"
    pm = lora(tiny_model('llama'), r=4)
    set_checkpointing(pm.base_model.model, True, use_reentrant=True)
    pm.base_model.model.disable_input_require_grads()
    pm.train()
    x = torch.randint(3, 100, (1, 8))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try: pm(input_ids=x, labels=x).loss.backward()
        except RuntimeError: return  # "element 0 of tensors does not require grad"
    assert all(p.grad is None for n, p in pm.named_parameters() if 'lora_' in n)


def test_rule_packing_uses_tokens_check():
    with pytest.raises(ValueError, match='encoder-decoder'):
        check_config(tiny_model('blenderbot'), packing=True)
    cfg = tiny_model('llama').config
    cfg.model_type = 'someformer'
    with pytest.raises(ValueError, match='not verified'):
        check_config(cfg, packing=True)


def test_all_problems_reported_at_once():
    with fake_gpu(), pytest.raises(ValueError) as e:
        check_config(tiny_model('llama'), 'qlora', r=0, alpha=0, dtype='bfloat16', optimizer='lomo')
    assert str(e.value).count('\n- ') == 4


def test_task_type_detected_and_overridable():
    assert lora_config(tiny_model('blenderbot')).task_type == 'SEQ_2_SEQ_LM'
    assert lora_config(tiny_model('llama'), task_type='SEQ_CLS').task_type == 'SEQ_CLS'


# --- estimate_memory ---------------------------------------------------------------------------------------------------

def test_weights_term_matches_footprint(default):
    model, _ = default
    est = estimate_memory(model, 'full', dtype=torch.float32)
    assert est.params == model.num_parameters()
    lo = estimate_memory(model, 'lora', dtype=torch.float32)
    assert abs(lo.weights * GB / model.get_memory_footprint() - 1) < 0.005


@pytest.mark.parametrize('kind', ['llama', 'gpt2', 'blenderbot'])
def test_adapter_term_matches_counted_params(kind):
    for method, build in (('lora', lambda m: lora(m, r=8)), ('adalora', lambda m: adalora(m, 100, init_r=8))):
        est = estimate_memory(tiny_model(kind), method, r=8)
        pm = build(tiny_model(kind))
        n = pm.get_nb_trainable_parameters()[0]
        assert est.trainable == n, (kind, method)
        assert est.adapter * GB == 4 * n
        assert estimate_memory(pm).trainable == n and estimate_memory(pm).method == method


def test_activation_term_against_saved_tensors():
    "Activations saved for backward (counted with saved_tensors_hooks, fp32 on CPU) vs the estimate's formula"
    # the default model's layer shapes (SmolLM2-135M), 4 layers instead of 30: the formula is per layer
    model = tiny_model('llama', hidden_size=576, intermediate_size=1536, num_attention_heads=9, num_key_value_heads=3,
                       head_dim=64, num_hidden_layers=4)
    pm = lora(model, r=16, dropout=0.0)
    pm.train()
    params = {p.untyped_storage().data_ptr() for p in pm.parameters()}
    seen = {}
    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in params: seen[st.data_ptr()] = st.nbytes()
        return t
    T = 64
    ids = torch.randint(3, 1000, (1, T))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): pm(input_ids=ids, labels=ids)
    measured = sum(seen.values())
    est = estimate_memory(pm, seq_len=T, dtype=torch.float32, dropout=0.0)
    # the estimate also counts the live logits and their gradient (2 x vocab x 4 bytes per token), not saved tensors
    predicted = est.activations * GB - T * model.config.vocab_size * 8
    print(f"saved tensors {measured/2**20:.1f} MiB, formula {predicted/2**20:.1f} MiB")
    assert abs(predicted / measured - 1) < 0.05


def test_4bit_weights_term(default):
    est = estimate_memory(_meta_model(default[0].config), 'qlora')
    assert 0.150 < est.weights * GB / 2**30 < 0.165  # measured footprint of the 4-bit default model: see test_adapters_qlora


def test_fits_and_errors():
    e = estimate_memory(known_config('7B'), 'qlora', gpu='Tesla T4')
    assert e.gpu == 'T4' and e.fits == 'with gradient checkpointing'
    assert estimate_memory(known_config('7B'), 'qlora', gpu='A100-80GB').fits == 'yes'
    assert estimate_memory(known_config('135M'), gpu=None).fits == 'unknown'
    assert estimate_memory(known_config('135M'), gpu=2.0).usable_gb == 2.0
    with pytest.raises(ValueError, match='unknown to estimate_memory'):
        estimate_memory(known_config('135M'), optimizer='shampoo')
    assert estimate_memory(known_config('135M'), optimizer='paged_adamw_8bit').optimizer * 4 == \
           estimate_memory(known_config('135M'), optimizer='adamw_torch_fused').optimizer
    # more tokens, more memory; checkpointing saves memory
    a, b = (estimate_memory(known_config('1B'), seq_len=s) for s in (512, 2048))
    assert b.activations > 3.9 * a.activations and b.activations_checkpointed < b.activations


# --- AdaLoraCallback ----------------------------------------------------------------------------------------------------

def test_callback_runs_while_gradients_exist():
    "update_and_allocate must see the gradients: the callback runs after optimizer.step and before zero_grad"
    from transformers import Trainer, TrainingArguments
    import tempfile
    pm = adalora(tiny_model('llama'), total_steps=4, init_r=4, target_r=2, tinit=1, tfinal=1)
    seen = []
    ada = pm.base_model
    orig = ada.update_and_allocate
    def spy(step):
        seen.append((step, all(p.grad is not None for n, p in ada.named_parameters() if 'lora_E' in n)))
        return orig(step)
    ada.update_and_allocate = spy
    ids = torch.randint(3, 1000, (4, 8))
    rows = [{'input_ids': ids[i], 'labels': ids[i]} for i in range(4)]
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), max_steps=4, per_device_train_batch_size=2, report_to=[],
                             save_strategy='no', logging_strategy='no', use_cpu=True, disable_tqdm=True,
                             gradient_accumulation_steps=2)
    Trainer(model=pm, args=args, train_dataset=rows, callbacks=[AdaLoraCallback()]).train()
    assert seen == [(0, True), (1, True), (2, True), (3, True)]  # once per optimizer step (not per micro-batch), grads present


def test_callback_fits_schedule_to_max_steps():
    from transformers import TrainerControl, TrainerState, TrainingArguments
    import tempfile
    pm = adalora(tiny_model('llama'), total_steps=100)
    st = TrainerState(); st.max_steps = 50
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), report_to=[], use_cpu=True)
    with pytest.warns(UserWarning, match='set to this run'):
        AdaLoraCallback().on_train_begin(args, st, TrainerControl(), model=pm)
    assert pm.peft_config['default'].total_step == 50
    pm2 = adalora(tiny_model('llama'), total_steps=100)
    with pytest.raises(ValueError, match='max_steps=50'):
        AdaLoraCallback(fit_schedule=False).on_train_begin(args, st, TrainerControl(), model=pm2)


def test_callback_skips_fp16_overflow_steps():
    from transformers import TrainerControl, TrainerState
    from types import SimpleNamespace
    pm = adalora(tiny_model('llama'), total_steps=10, init_r=4, target_r=2)
    for n, p in pm.named_parameters():
        if 'lora_' in n: p.grad = torch.full_like(p, float('inf'))
    called = []
    pm.base_model.update_and_allocate = lambda step: called.append(step)
    AdaLoraCallback().on_optimizer_step(SimpleNamespace(fp16=True), TrainerState(), TrainerControl(), model=pm)
    assert called == []
    AdaLoraCallback().on_optimizer_step(SimpleNamespace(fp16=False), TrainerState(), TrainerControl(), model=pm)
    assert called == [0]


def _add_adapter_like_transformers(model, config):
    """What transformers' `model.add_adapter(config)` does (peft's `inject_adapter_in_model` plus its bookkeeping),
    without transformers' own peft version gate (5.24 refuses peft < 0.22, which doesn't exist yet)"""
    from peft import inject_adapter_in_model
    inject_adapter_in_model(config, model, 'default')
    model._hf_peft_config_loaded, model.peft_config = True, {'default': config}
    return model


def test_add_adapter_path_is_refused():
    "transformers' add_adapter(AdaLoraConfig) has no RankAllocator: training it would silently be fixed-rank"
    m = _add_adapter_like_transformers(tiny_model('llama'), adalora_config(tiny_model('llama'), total_steps=10))
    assert is_adalora(m) and any('lora_E' in n for n, _ in m.named_parameters())
    with pytest.raises(ValueError, match='peft#3373'):
        AdaLoraCallback()._find(m)


def test_add_adapter_itself_is_refused_where_transformers_allows_it():
    "The same through transformers' real `add_adapter`, on the versions whose peft gate lets it run"
    m = tiny_model('llama')
    try: m.add_adapter(adalora_config(m, total_steps=10))
    except ValueError as e:
        if 'version of PEFT' not in str(e): raise
        pytest.skip(f"transformers refuses this peft for add_adapter: {e}")
    with pytest.raises(ValueError, match='peft#3373'):
        AdaLoraCallback()._find(m)


def test_adalora_pruned_to_rank_zero_saves_quietly_and_loads_back(tmp_path):
    "peft's empty-tensor warning names exactly AdaLoRA's rank-0 matrices: ignored; the adapter loads at rank 0"
    from peft import AdaLoraConfig
    from peft.utils import PeftWarning
    from finetune_kit.adapters import peft_model, save_adapter, load_adapter, adalora_ranks, pruned_ranks
    ada = peft_model(tiny_model('llama'), AdaLoraConfig(init_r=4, target_r=2, total_step=10,
                                                        target_modules=['q_proj', 'v_proj']))
    ada.peft_config['default'].rank_pattern = {'model.layers.0.self_attn.q_proj.lora_E.default': [False] * 4,
                                               'model.layers.1.self_attn.v_proj.lora_E.default': [True, False] * 2}
    assert pruned_ranks(ada) == ['model.layers.0.self_attn.q_proj']
    with warnings.catch_warnings():
        warnings.simplefilter('error', PeftWarning)
        save_adapter(ada, tmp_path/'a')
        ranks = adalora_ranks(load_adapter(tmp_path/'a', tiny_model('llama')))   # its key check reads them too
    assert ranks['model.layers.0.self_attn.q_proj'] == 0 and ranks['model.layers.1.self_attn.v_proj'] == 2
    assert ranks['model.layers.0.self_attn.v_proj'] == 4
