# dohost — make targets. Plain `make` lists them.

GO      ?= go
LISTEN  ?= 127.0.0.1:8787
DATA    ?= ./.dohost
EXAMPLE ?= room
# Seconds each fuzz target runs in `make test` and in `make fuzz`.
FUZZTIME      ?= 5s
FUZZTIME_LONG ?= 5m

BIN      := bin/dohost
# dohost's JavaScript runtime, a C guest (guests/js/runtime) with the
# QuickJS interpreter, that runs the Workers whose main is a .js or .ts
# file; dohost looks for it beside itself.
JS_RUNTIME := bin/dohost-js.wasm
# QuickJS's source (version 2021-03-27) comes from the npm package qjsc,
# which carries it whole in deps/; the tarball is checked by its sha256
# (RATIONALE.md, "A JavaScript engine for the sandbox").
QUICKJS_PKG    := qjsc-0.3.0
QUICKJS_SHA256 := 4a9ed1852b334d842d5dac42d1782817ae26310b448de39532451fd45c9ba0ee
QUICKJS        := build/quickjs
QUICKJS_UNITS  := quickjs libregexp libunicode cutils libbf
QUICKJS_OBJ    := $(foreach u,$(QUICKJS_UNITS),$(QUICKJS)/$(u).o)
# wasi_compat.h gives QuickJS what wasi-libc lacks (rounding modes:
# rounding.c); wasm32-wasi has no threads, so Atomics is left out (below).
# CONFIG_BIGNUM gives BigInt (its BigFloat and operator extensions stay off).
QUICKJS_FLAGS  := --target=wasm32-wasi -O2 -w -D_GNU_SOURCE -DCONFIG_VERSION='"2021-03-27"' -DCONFIG_BIGNUM \
	-DDOHOST_QUICKJS -include guests/js/runtime/wasi_compat.h
JS_RUNTIME_SRC := $(wildcard guests/js/runtime/*.c guests/js/runtime/*.h guests/js/runtime/*.js)
# Examples: Go ones (main.go, built here), C ones (<name>-c/*.c, built here
# with clang and wasi-libc: apt-get install clang lld wasi-libc) and WAT ones
# (<name>.wat, whose .wasm is committed and rebuilt when wat2wasm is
# installed).
GO_EXAMPLES  := $(patsubst guests/examples/%/main.go,%,$(wildcard guests/examples/*/main.go))
C_EXAMPLES   := $(patsubst guests/examples/%/,%,$(sort $(dir $(wildcard guests/examples/*-c/*.c))))
RUST_EXAMPLES := $(patsubst guests/examples/%/,%,$(sort $(dir $(wildcard guests/examples/*-rust/main.rs))))
AS_EXAMPLES  := $(patsubst guests/examples/%/,%,$(sort $(dir $(wildcard guests/examples/*-as/index.ts))))
JS_EXAMPLES  := $(patsubst guests/examples/%/src/,%,$(sort $(dir $(wildcard guests/examples/*/src/index.[jt]s))))
WAT_EXAMPLES := $(patsubst guests/examples/%/,%,$(dir $(wildcard guests/examples/*/*.wat)))
EXAMPLES     := $(GO_EXAMPLES) $(C_EXAMPLES) $(RUST_EXAMPLES) $(AS_EXAMPLES) $(WAT_EXAMPLES) $(JS_EXAMPLES)
GO_EXAMPLE_WASM  := $(foreach e,$(GO_EXAMPLES),guests/examples/$(e)/$(e).wasm)
C_EXAMPLE_WASM   := $(foreach e,$(C_EXAMPLES),guests/examples/$(e)/$(e).wasm)
RUST_EXAMPLE_WASM := $(foreach e,$(RUST_EXAMPLES),guests/examples/$(e)/$(e).wasm)
AS_EXAMPLE_WASM  := $(foreach e,$(AS_EXAMPLES),guests/examples/$(e)/$(e).wasm)
WAT_EXAMPLE_WASM := $(foreach e,$(WAT_EXAMPLES),guests/examples/$(e)/$(e).wasm)
# How the C SDK's guests are built (guests/c/README.md).
CLANG    ?= clang
C_FLAGS  := --target=wasm32-wasi -mexec-model=reactor -Oz -Wall -Wextra -Werror -Wl,--strip-all -I guests/c
# How the Rust SDK's guests are built (guests/rust/README.md): Debian's
# rustc (1.63) and its wasm32-wasi standard library, no cargo.
RUSTC    ?= $(firstword $(wildcard /usr/bin/rustc) rustc)
RUST_FLAGS := --edition 2021 --target wasm32-wasi -C opt-level=s -D warnings
RUST_SDK := bin/rust/libdohost.rlib
# How the AssemblyScript SDK's guests are built (guests/assemblyscript/README.md):
# asc from npm, pinned by guests/assemblyscript/package-lock.json.
ASC      := guests/assemblyscript/node_modules/.bin/asc
AS_FLAGS := -O3z --exportStart _initialize --use abort=
WAT      := $(shell find testdata host -path '*testdata/*' -name '*.wat')
# Fuzz targets, package:target: every func Fuzz… in a _test.go file.
FUZZ := $(shell grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)#\1:\2#' | sort)

.SECONDEXPANSION:
.PHONY: as-guest c-guest rust-guest deps help build install dev bench-deploy guests run test test-short fuzz bench bench-peer bench-ws chat soak check clean
help: ## list the targets
	@echo "dohost make targets:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "variables: LISTEN=$(LISTEN) DATA=$(DATA) EXAMPLE=$(EXAMPLE) (examples: $(EXAMPLES))"

# The Debian packages the guests of other languages are built with.
DEB_TOOLCHAINS := clang lld wasi-libc libclang-rt-dev-wasm32 rustc libstd-rust-dev-wasm32 wabt

deps: ## install the C, Rust and WAT guest toolchains from Debian's packages (as root; once)
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_TOOLCHAINS)

build: $(BIN) $(JS_RUNTIME) ## build bin/dohost and its JavaScript runtime bin/dohost-js.wasm

$(QUICKJS)/src/quickjs.c:
	rm -rf $(QUICKJS) && mkdir -p $(QUICKJS)/src
	cd $(QUICKJS) && npm pack $(subst -0,@0,$(QUICKJS_PKG)) --silent --no-audit --no-fund >/dev/null
	echo "$(QUICKJS_SHA256)  $(QUICKJS)/$(QUICKJS_PKG).tgz" | sha256sum -c --quiet
	tar -xzf $(QUICKJS)/$(QUICKJS_PKG).tgz -C $(QUICKJS)/src --strip-components=3 \
		$(foreach f,$(QUICKJS_UNITS:%=%.c) cutils.h libregexp.h libregexp-opcode.h libunicode.h libunicode-table.h \
		libbf.h list.h quickjs.h quickjs-atom.h quickjs-opcode.h LICENSE VERSION,package/deps/quickjs_2021_03_27/$(f))
	sed -i 's|^#define CONFIG_ATOMICS$$|/* no Atomics: wasm32-wasi has no threads */|' $(QUICKJS)/src/quickjs.c

$(QUICKJS)/%.o: $(QUICKJS)/src/quickjs.c guests/js/runtime/wasi_compat.h
	$(CLANG) $(QUICKJS_FLAGS) -c -o $@ $(QUICKJS)/src/$*.c

$(QUICKJS)/embedded.h: guests/js/runtime/prelude.js guests/js/runtime/runtime.js guests/js/runtime/embed.js
	node guests/js/runtime/embed.js $@ prelude_js=guests/js/runtime/prelude.js runtime_js=guests/js/runtime/runtime.js

$(JS_RUNTIME): $(JS_RUNTIME_SRC) $(QUICKJS_OBJ) $(QUICKJS)/embedded.h guests/c/dohost.c guests/c/dohost.h guests/c/dohost_abi.h
	@mkdir -p $(dir $@)
	$(CLANG) --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -I guests/c -isystem $(QUICKJS)/src -I $(QUICKJS) \
		-Wl,-z,stack-size=262144 -Wl,--strip-all -o $@ $(filter %.c,$(JS_RUNTIME_SRC)) guests/c/dohost.c $(QUICKJS_OBJ) -lm

$(BIN): $(shell find cmd host abi -name '*.go') go.mod go.sum
	$(GO) build -buildvcs=auto -o $@ ./cmd/dohost

$(GO_EXAMPLE_WASM): %.wasm: FORCE
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o $@ ./$(dir $@)

$(C_EXAMPLE_WASM): guests/examples/%.wasm: $$(wildcard guests/examples/$$(*D)/*.c) guests/c/dohost.c guests/c/dohost.h guests/c/dohost_abi.h
	$(CLANG) $(C_FLAGS) -o $@ $(wildcard guests/examples/$(*D)/*.c) guests/c/dohost.c

$(RUST_SDK): $(wildcard guests/rust/dohost/src/*.rs)
	@mkdir -p $(dir $@)
	$(RUSTC) $(RUST_FLAGS) --crate-type rlib --crate-name dohost -o $@.$$$$ guests/rust/dohost/src/lib.rs && mv $@.$$$$ $@

$(RUST_EXAMPLE_WASM): guests/examples/%.wasm: guests/examples/$$(*D)/main.rs $(RUST_SDK)
	$(RUSTC) $(RUST_FLAGS) --crate-type cdylib -C lto -C strip=symbols --extern dohost=$(RUST_SDK) -o $@ $<

$(ASC): guests/assemblyscript/package.json guests/assemblyscript/package-lock.json
	cd guests/assemblyscript && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(AS_EXAMPLE_WASM): guests/examples/%.wasm: guests/examples/$$(*D)/index.ts $(wildcard guests/assemblyscript/dohost/*.ts) $(ASC)
	$(ASC) $< $(AS_FLAGS) -o $@

# as-guest builds the AssemblyScript guest DIR/index.ts into OUT, as the
# examples are built.
as-guest: $(ASC)
	$(ASC) $(DIR)/index.ts $(AS_FLAGS) -o $(OUT)

# rust-guest builds the Rust guest DIR/main.rs into OUT, as the examples
# are built: the tests build testdata's Rust guests so.
rust-guest: $(RUST_SDK)
	$(RUSTC) $(RUST_FLAGS) --crate-type cdylib -C lto -C strip=symbols --extern dohost=$(RUST_SDK) -o $(OUT) $(DIR)/main.rs

# c-guest builds the C guest in DIR (every .c there, with the SDK) into
# OUT, as the examples are built: the tests build testdata's C guests so.
c-guest:
	$(CLANG) $(C_FLAGS) -o $(OUT) $(wildcard $(DIR)/*.c) guests/c/dohost.c

$(WAT_EXAMPLE_WASM): %.wasm: %.wat
	@if command -v wat2wasm >/dev/null; then echo "wat2wasm $< -o $@"; wat2wasm $< -o $@; \
	else echo "wat2wasm not found (apt-get install wabt): kept the committed $@"; fi

guests: $(GO_EXAMPLE_WASM) $(C_EXAMPLE_WASM) $(RUST_EXAMPLE_WASM) $(AS_EXAMPLE_WASM) $(WAT_EXAMPLE_WASM) ## build the example guests (and, with wat2wasm installed, the WAT fixtures)
	@if command -v wat2wasm >/dev/null; then \
		for f in $(WAT); do wat2wasm --debug-names $$f -o $${f%.wat}.wasm || exit 1; done; \
	else echo "wat2wasm not found (apt-get install wabt): kept the committed testdata .wasm files"; fi

install: ## go install the dohost command into $(go env GOBIN), or GOPATH/bin
	$(GO) install -buildvcs=auto ./cmd/dohost

# example_dep is what serving the example $(1) needs built: its .wasm, or
# for a JavaScript example the runtime.
example_dep = $(if $(filter $(1),$(JS_EXAMPLES)),$(JS_RUNTIME),guests/examples/$(1)/$(1).wasm)

dev: $(BIN) $$(call example_dep,$(EXAMPLE)) ## dohost dev on the example EXAMPLE: reloads it when its .wasm is rebuilt
	$(BIN) dev --config guests/examples/$(EXAMPLE)/wrangler.toml --listen $(LISTEN) --data $(DATA)

run: $(BIN) $$(call example_dep,$(EXAMPLE)) ## serve the example EXAMPLE on LISTEN, its data in DATA (see below)
	$(BIN) serve --config guests/examples/$(EXAMPLE)/wrangler.toml --listen $(LISTEN) --data $(DATA)

test: ## vet, then every test with the race detector, then each fuzz target briefly
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./guests/... ./testdata/guests/...
	$(GO) test -race -count=1 -timeout 30m ./...
	@GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME) $(FUZZ)

test-short: ## the tests without the race detector or fuzzing
	$(GO) test -count=1 ./...

fuzz: ## run each fuzz target for FUZZTIME_LONG
	@GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME_LONG) $(FUZZ)

bench: ## Go benchmarks of the hot paths, with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

chat: ## a terminal chat client for make run EXAMPLE=chat: make chat ROOM=lobby (on LISTEN)
	$(GO) run ./scripts/wschat 'ws://$(LISTEN)/?room=$(or $(ROOM),lobby)'

bench-deploy: ## hot deploys and a rollback under wrk load: every request must succeed (scripts/deploy-load.sh)
	./scripts/deploy-load.sh

bench-ws: $(BIN) guests/examples/chat/chat.wasm ## one chat room, 10,000 WebSocket clients: broadcast p50/p99, memory per socket, on dohost and workerd (~3 min)
	./scripts/bench-ws.sh

bench-peer: $(BIN) $(JS_RUNTIME) guests/examples/room/room.wasm guests/examples/room-c/room-c.wasm guests/examples/room-rust/room-rust.wasm guests/examples/room-as/room-as.wasm guests/examples/room-wat/room-wat.wasm ## dohost (the room in each language) next to workerd under wrk (installs both; ~10 min)
	./scripts/bench-peer.sh

soak: $(BIN) ## a victim tenant under load while an attacker tenant attacks, one attack at a time (~7 min)
	$(GO) run ./scripts/soak

check: ## gofmt, go vet, go mod tidy clean
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./guests/... ./testdata/guests/...
	$(GO) mod tidy -diff

clean: ## remove built binaries and example guests
	rm -rf bin build $(GO_EXAMPLE_WASM) $(C_EXAMPLE_WASM) $(RUST_EXAMPLE_WASM) $(AS_EXAMPLE_WASM)

FORCE:
