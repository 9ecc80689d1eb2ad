"""Check `finetune_kit.adapters.estimate_memory` against measurements and print the errors.

    python tests/bench_memory.py            # CPU: weights vs get_memory_footprint, activations vs saved tensors
    python tests/bench_memory.py --cuda     # also: whole estimate vs torch.cuda.max_memory_allocated of real steps

On CPU the activation term is compared with the bytes autograd saves for backward (saved_tensors_hooks), in fp32.
On CUDA each run does 2 optimizer steps on random tokens and compares the peak allocated memory with the estimate
minus its fixed 0.5 GB overhead (the CUDA context is not in max_memory_allocated)."""
import argparse, gc, time, warnings
import torch
from finetune_kit.models import load_model, pick_device
from finetune_kit.adapters import lora, qlora, qlora_config, estimate_memory, GB, set_checkpointing

warnings.simplefilter('ignore')


def saved_bytes(model, ids):
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}
    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in params: seen[st.data_ptr()] = st.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): model(input_ids=ids, labels=ids)
    return sum(seen.values())


def cpu_checks():
    model, _ = load_model(quiet=True)
    for method in ('full', 'lora'):
        e = estimate_memory(model, method, dtype=torch.float32)
        w = e.weights if method == 'lora' else e.weights * 4 / 8  # 'full' adds autocast's half copy: compare the fp32 part
        print(f"weights {method:5}: estimate {w*GB/2**20:8.1f} MiB, get_memory_footprint {model.get_memory_footprint()/2**20:8.1f} MiB")
    V = model.config.vocab_size
    print("activations (fp32, CPU): seq_len, dropout, saved-tensor MiB, formula MiB, error")
    for dropout in (0.0, 0.05):
        m, _ = load_model(quiet=True)
        pm = lora(m, r=16, dropout=dropout); pm.train()
        for T in (64, 256):
            ids = torch.randint(3, 1000, (1, T))
            meas = saved_bytes(pm, ids)
            est = estimate_memory(pm, seq_len=T, dtype=torch.float32).activations * GB - T * V * 8  # minus live logits+grad
            print(f"  {T:5} {dropout:5} {meas/2**20:9.1f} {est/2**20:9.1f} {est/meas-1:+7.1%}")


def cuda_step_peak(model, T, steps=2):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    model.train()
    for _ in range(steps):
        ids = torch.randint(3, 1000, (1, T), device='cuda')
        with torch.autocast('cuda', dtype=pick_device().dtype):  # what Trainer's fp16/bf16 mixed precision does
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated()


def cuda_checks(name=None):
    print(f"CUDA: {torch.cuda.get_device_name()} — method, seq_len, checkpointing, measured GB, estimate GB, error")
    for method in ('lora', 'qlora'):
        for ckpt in (False, True):
            for T in (512, 2048):
                gc.collect(); torch.cuda.empty_cache()
                if method == 'lora':
                    m, _ = load_model(name, quiet=True)
                    if ckpt: set_checkpointing(m, True)
                    pm = lora(m, r=16)
                else: pm, _ = qlora(name, r=16, alpha=32, dropout=0.05, gradient_checkpointing=ckpt)
                meas = cuda_step_peak(pm, T)
                e = estimate_memory(pm, seq_len=T, gpu=None, dtype=pick_device().dtype)
                est = (e.total_checkpointed if ckpt else e.total) - e.overhead
                print(f"  {method:6} {T:5} {str(ckpt):5} {meas/GB:7.2f} {est:7.2f} {est/(meas/GB)-1:+7.1%}")
                del pm; gc.collect()


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--cuda', action='store_true')
    ap.add_argument('--model', default=None, help='hub id or path for the CUDA runs (default: the offline default model)')
    a = ap.parse_args()
    t = time.time()
    cpu_checks()
    if a.cuda:
        if not torch.cuda.is_available(): print("--cuda: no CUDA device here; skipped")
        else: cuda_checks(a.model)
    print(f"done in {time.time()-t:.0f} s")
