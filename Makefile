# Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
# tunnelwrap - transparent SSH tunnel for unmodified programs.
#
#   make            build into $(B)/ (default build/)
#   make check      build, then run the whole test suite (as root: namespaces)
#   make demo       throwaway bastion + intranet, then tunnelwrap curl
#   make asan       sanitizer build (ASan+UBSan) into build-asan/
#   make install    PREFIX, DESTDIR, BINDIR, LIBDIR, MANDIR, SYSCONFDIR

VERSION    = 0.1
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/tunnelwrap
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

B         ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS    ?= -O2 -g
SANITIZE  ?=
WARN       = -Wall -Wextra -Werror
MULTIARCH ?= $(shell $(CC) -print-multiarch 2>/dev/null)
# No build path in what we install (debug info names files relatively).
BASE       = -std=c11 -D_GNU_SOURCE $(WARN) -DTW_VERSION='"$(VERSION)"' \
	     -DTW_SYSCONFDIR='"$(SYSCONFDIR)"' -ffile-prefix-map=$(CURDIR)=. \
	     $(if $(MULTIARCH),-DTW_MULTIARCH='"$(MULTIARCH)"')
# The shim gets UBSan only: ASan's runtime must load before everything in
# the host program, which a preloaded library cannot arrange.
SHIM_SANITIZE ?= $(if $(SANITIZE),undefined)
ifneq ($(SANITIZE),)
APP_SAN    = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifneq ($(SHIM_SANITIZE),)
SHIM_SAN   = -fsanitize=$(SHIM_SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
SSH_CFLAGS := $(shell $(PKG_CONFIG) --cflags libssh libbsd libcrypto 2>/dev/null)
SSH_LIBS   := $(shell $(PKG_CONFIG) --libs libssh libbsd libcrypto 2>/dev/null)
# The launcher takes strlcpy and reallocarray from libbsd: linked in, so
# each launch maps two libraries fewer (about 0.1 ms of CPU per launch).
LAUNCH_LIBS := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs libbsd 2>/dev/null) -Wl,-Bdynamic

RULES_SRC  = rules/rules.c rules/match.c rules/dump.c
COMMON_SRC = common/proto.c common/reach.c common/synth.c common/resolvconf.c
SHIM_SRC   = preload/shim.c preload/ipc.c preload/fdtab.c preload/names.c \
	     preload/hook-connect.c preload/hook-resolve.c preload/hook-socket.c \
	     preload/hook-send.c preload/hook-listen.c preload/hook-exec.c \
	     preload/hook-syscall.c preload/hook-dns.c
# helper/ holds the two programs: helper/daemon/ is tunnelwrap-helper,
# helper/launcher/ is tunnelwrap, and helper/ itself what both link.
# Their files include the shared headers, ../common/ and ../rules/ as
# from helper/ (-Ihelper).
SHARED_SRC = helper/log.c helper/log-syslog.c helper/strvec.c \
	     helper/rundir.c helper/sshg.c
HELPER_SRC = $(addprefix helper/daemon/,main.c loop.c watch.c ctl.c relay.c \
	     handover.c park.c pump.c window.c names.c session.c sshconf.c \
	     knownhosts.c identity.c status.c forward.c proxy.c exec.c \
	     prefetch.c dns.c dns-msg.c sockdiag.c) $(SHARED_SRC)
LAUNCH_SRC = $(addprefix helper/launcher/,launcher.c supervise.c client.c \
	     fwdspec.c remote.c ctlcmd.c sessname.c strict.c) $(SHARED_SRC)
APP_INC    = -Ihelper

obj = $(patsubst %.c,$(B)/obj/$(1)/%.o,$(2))

PROGS = $(B)/tunnelwrap $(B)/tunnelwrap-helper $(B)/libtunnelwrap.so \
	$(B)/test_rules $(B)/test_log $(B)/test_sockdiag

all: $(PROGS)

# The shim is a guest in other processes: libc only, hidden symbols.
$(B)/obj/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(SHIM_SAN) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/obj/app/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(APP_INC) $(APP_SAN) $(CFLAGS) $(SSH_CFLAGS) -MMD -MP -c $< -o $@

SHIM_LDFLAGS = -shared -Wl,--version-script=preload/libtunnelwrap.map \
	       -Wl,-z,defs -Wl,-z,now
$(B)/libtunnelwrap.so: $(call obj,pic,$(SHIM_SRC) $(RULES_SRC) $(COMMON_SRC)) preload/libtunnelwrap.map
	$(CC) $(BASE) $(SHIM_SAN) $(CFLAGS) $(SHIM_LDFLAGS) \
	    -o $@ $(filter %.o,$^) -ldl -lpthread

$(B)/tunnelwrap-helper: $(call obj,app,$(HELPER_SRC) $(COMMON_SRC) $(RULES_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^ $(SSH_LIBS)

# The launcher runs before every wrapped program: libc and libbsd only.
$(B)/tunnelwrap: $(call obj,app,$(LAUNCH_SRC) $(COMMON_SRC) $(RULES_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^ $(LAUNCH_LIBS)

$(B)/test_rules: $(call obj,app,rules/test_rules.c $(RULES_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^

$(B)/test_log: $(call obj,app,helper/test_log.c helper/log.c helper/log-syslog.c)
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^

# test_sockdiag.c #includes helper/daemon/sockdiag.c (its static lookups).
$(B)/test_sockdiag: $(call obj,app,helper/daemon/test_sockdiag.c)
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# demo and check first install what they need (tests/deps: Debian
# packages, as root; otherwise it prints the apt-get line and stops), then
# build in a sub-make, which reads pkg-config's flags afresh.
check:
	tests/deps check
	$(MAKE) all
	$(B)/test_rules
	$(B)/test_log
	$(B)/test_sockdiag
	B=$(B) tests/run

# Sanitizer build: helper, launcher and rules with ASan+UBSan, the shim
# with UBSan; the same suite runs against it.  Any report aborts the
# process (halt_on_error), which fails the test that ran it.
asan:
	$(MAKE) B=build-asan SANITIZE=address,undefined all

# (packaging, completion, lint, dependency and bed tests have nothing to
# sanitize; t-stress measures memory, which under ASan is its quarantine;
# fuzz, valgrind and TSan bring their own instrumentation)
ASAN_TESTS = $(filter-out t-package.sh t-install.sh t-completion.sh t-units.sh \
	     t-fuzz.sh t-valgrind.sh t-tsan.sh t-stress.sh t-deps.sh t-testbed.sh, \
	     $(notdir $(wildcard tests/t-*.sh)))
check-asan:
	tests/deps check
	$(MAKE) asan
	B=build-asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 tests/run $(ASAN_TESTS)

demo:
	tests/deps demo
	$(MAKE) all
	B=$(B) tests/demo

clean:
	rm -rf build build-asan

# Install (GNU conventions: PREFIX, DESTDIR, BINDIR, LIBDIR, MANDIR,
# SYSCONFDIR ...; the rest are defined at the end of this file).  The shim
# and the helper go to $(PKGLIBDIR); the launcher finds them relative to its
# own location, so nothing installed names the build tree or the prefix.
# A 32-bit shim ($(B)/lib32/, `make shim32`) is installed when it was built.
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(SYSCONFDIR)/tunnelwrap $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(SYSTEMDUSERUNITDIR) \
	    $(DESTDIR)$(EXAMPLESDIR)/apps
	$(INSTALL_PROGRAM) $(B)/tunnelwrap $(DESTDIR)$(BINDIR)/tunnelwrap
	$(INSTALL_PROGRAM) $(B)/tunnelwrap-helper $(DESTDIR)$(PKGLIBDIR)/tunnelwrap-helper
	$(INSTALL_LIB) $(B)/libtunnelwrap.so $(DESTDIR)$(PKGLIBDIR)/libtunnelwrap.so
	if [ -f $(B)/lib32/libtunnelwrap.so ]; then \
	    $(INSTALL) -d $(DESTDIR)$(PKGLIBDIR32) && \
	    $(INSTALL_LIB) $(B)/lib32/libtunnelwrap.so $(DESTDIR)$(PKGLIBDIR32)/libtunnelwrap.so; \
	fi
	$(INSTALL_DATA) man/tunnelwrap.1 $(DESTDIR)$(MANDIR)/man1/tunnelwrap.1
	$(INSTALL_DATA) man/tunnelwrap-rules.5 $(DESTDIR)$(MANDIR)/man5/tunnelwrap-rules.5
	$(INSTALL_DATA) contrib/rules.example $(DESTDIR)$(SYSCONFDIR)/tunnelwrap/rules.example
	$(INSTALL_DATA) contrib/completion/tunnelwrap.bash $(DESTDIR)$(BASHCOMPDIR)/tunnelwrap
	$(INSTALL_DATA) contrib/completion/_tunnelwrap $(DESTDIR)$(ZSHCOMPDIR)/_tunnelwrap
	sed -e 's|\([=-]\)tunnelwrap |\1$(BINDIR)/tunnelwrap |' \
	    -e 's|while tunnelwrap |while $(BINDIR)/tunnelwrap |' \
	    contrib/systemd/tunnelwrap@.service >$(B)/tunnelwrap@.service
	$(INSTALL_DATA) $(B)/tunnelwrap@.service $(DESTDIR)$(SYSTEMDUSERUNITDIR)/tunnelwrap@.service
	$(INSTALL_DATA) contrib/apps/*.rules $(DESTDIR)$(EXAMPLESDIR)/apps/
	$(INSTALL_DATA) contrib/desktop/firefox-tunnelwrap.desktop $(DESTDIR)$(EXAMPLESDIR)/

# Removes what install installed, and the directories that are tunnelwrap's
# own once empty; /etc/tunnelwrap stays if it holds a live rules file.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tunnelwrap \
	    $(DESTDIR)$(PKGLIBDIR)/tunnelwrap-helper \
	    $(DESTDIR)$(PKGLIBDIR)/libtunnelwrap.so \
	    $(DESTDIR)$(PKGLIBDIR32)/libtunnelwrap.so \
	    $(DESTDIR)$(MANDIR)/man1/tunnelwrap.1 \
	    $(DESTDIR)$(MANDIR)/man5/tunnelwrap-rules.5 \
	    $(DESTDIR)$(SYSCONFDIR)/tunnelwrap/rules.example \
	    $(DESTDIR)$(BASHCOMPDIR)/tunnelwrap \
	    $(DESTDIR)$(ZSHCOMPDIR)/_tunnelwrap \
	    $(DESTDIR)$(SYSTEMDUSERUNITDIR)/tunnelwrap@.service \
	    $(DESTDIR)$(EXAMPLESDIR)/firefox-tunnelwrap.desktop
	rm -f $(addprefix $(DESTDIR)$(EXAMPLESDIR)/apps/,$(notdir $(wildcard contrib/apps/*.rules)))
	for d in $(PKGLIBDIR) $(PKGLIBDIR32) $(EXAMPLESDIR)/apps \
	    $(EXAMPLESDIR) $(DOCDIR) $(SYSCONFDIR)/tunnelwrap; do \
		[ ! -d "$(DESTDIR)$$d" ] || rmdir "$(DESTDIR)$$d" 2>/dev/null || true; \
	done

.PHONY: all check asan check-asan demo clean install uninstall

# --- Install layout and extra targets (issue 7) -------------------------
#
# Besides the variables at the top: DATADIR DOCDIR EXAMPLESDIR BASHCOMPDIR
# ZSHCOMPDIR SYSTEMDUSERUNITDIR LIBDIR32 (where `make shim32`'s shim goes).
# Debian (contrib/debian/rules) uses LIBDIR=/usr/lib/<multiarch> and
# ZSHCOMPDIR=/usr/share/zsh/vendor-completions.
DATADIR   ?= $(PREFIX)/share
DOCDIR    ?= $(DATADIR)/doc/tunnelwrap
EXAMPLESDIR ?= $(DOCDIR)/examples
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
SYSTEMDUSERUNITDIR ?= $(PREFIX)/lib/systemd/user
# The directory the 32-bit loader's $LIB names under PREFIX: lib32 for
# Debian's biarch libc6-i386 (what gcc-multilib brings), lib/i386-linux-gnu
# for a multiarch libc6:i386.
LIBDIR32  ?= $(PREFIX)/lib32
PKGLIBDIR32 ?= $(LIBDIR32)/tunnelwrap
INSTALL   ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 755
INSTALL_LIB ?= $(INSTALL) -m 644
INSTALL_DATA ?= $(INSTALL) -m 644

# Same as install, with the programs and the shim stripped.
install-strip:
	$(MAKE) INSTALL_PROGRAM='$(INSTALL) -m 755 -s' \
	    INSTALL_LIB='$(INSTALL) -m 644 -s' install

# A 32-bit shim for 32-bit programs (needs gcc-multilib): libc only, like
# the 64-bit one, and the same wire protocol (its layout is fixed-size);
# with 64-bit file offsets and inode numbers (it sends st_ino).
shim32: $(B)/lib32/libtunnelwrap.so

$(B)/obj/pic32/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -m32 -D_FILE_OFFSET_BITS=64 $(BASE) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/lib32/libtunnelwrap.so: $(call obj,pic32,$(SHIM_SRC) $(RULES_SRC) $(COMMON_SRC)) preload/libtunnelwrap.map
	@mkdir -p $(dir $@)
	$(CC) -m32 $(BASE) $(CFLAGS) $(SHIM_LDFLAGS) \
	    -o $@ $(filter %.o,$^) -ldl -lpthread

# The Debian package, built from a copy of the tree into $(B)/deb/.
deb:
	rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	tar --exclude=./build --exclude=./build-asan --exclude=./$(B) \
	    --exclude=./.git -cf - . | \
	    tar -C $(B)/deb/src -xf -
	rm -rf $(B)/deb/src/debian && cp -r contrib/debian $(B)/deb/src/debian
	cd $(B)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(B)/deb/*.deb

.PHONY: install-strip shim32 deb

# Side-by-side benchmark against ssh -L and ssh -D + proxychains4 (issue 4):
# throwaway sshd on loopback, tests/bench/.  Not part of check.  `bench`
# writes tests/bench/results.md and results.svg; `bench-quick` only prints.
bench: all
	B=$(B) python3 tests/bench/bench.py

bench-quick: all
	B=$(B) python3 tests/bench/bench.py --quick

.PHONY: bench bench-quick

# --- Fuzzing, valgrind, TSan (issue 6) ----------------------------------
#
# `make fuzz [FUZZ_SECONDS=60]` builds the libFuzzer targets with clang,
# ASan and UBSan into $(FUZZ_OUT), and runs each for FUZZ_SECONDS:
# rules/fuzz_rules.c (the rules parser, seeds rules/fuzz-corpus) and
# fuzz/fuzz_proto.c (the helper's control-socket decoder, the real
# helper/daemon/ctl.c; seeds fuzz/corpus-proto, made by fuzz/mkcorpus.py)
# and fuzz/fuzz_dns.c (the DNS responder's parser and answers,
# helper/daemon/dns-msg.c; seeds fuzz/corpus-dns).  New inputs go to $(FUZZ_OUT)/corpus-*, kept between runs; any crash, leak,
# timeout (10 s per input) or out-of-memory fails, with the reproducer in
# $(FUZZ_OUT)/fuzz_*-crash-* (-leak-, -timeout-).  No root needed.
# tests/t-fuzz.sh runs the same, bounded (TW_FUZZ_SECONDS, default 20), as
# part of check.
# check-valgrind and check-tsan run tests/t-valgrind.sh (the helper under
# memcheck through real tunneled operations) and tests/t-tsan.sh (the shim
# under ThreadSanitizer, 64 threads connecting) alone.
FUZZ_SECONDS ?= 60
FUZZ_OUT  ?= $(B)/fuzz
FUZZ_CC   ?= clang
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
	     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs libbsd 2>/dev/null)
FUZZ_RUN   = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	     -print_final_stats=1
# The helper's name table and logging (log.c and what it needs), as the
# helper links them.
FUZZ_PROTO_SRC = fuzz/fuzz_proto.c \
	     $(filter helper/daemon/names.c helper/daemon/watch.c helper/log%.c,$(HELPER_SRC)) \
	     $(COMMON_SRC) $(RULES_SRC)

fuzz-build: $(FUZZ_OUT)/fuzz_rules $(FUZZ_OUT)/fuzz_proto $(FUZZ_OUT)/fuzz_dns

# The DNS responder's message code, alone (it does no I/O).
$(FUZZ_OUT)/fuzz_dns: fuzz/fuzz_dns.c helper/daemon/dns-msg.c helper/daemon/dns-msg.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_dns.c helper/daemon/dns-msg.c

$(FUZZ_OUT)/fuzz_rules: rules/fuzz_rules.c $(RULES_SRC) rules/rules.h rules/rules-int.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ rules/fuzz_rules.c $(RULES_SRC)

# fuzz_proto.c #includes helper/daemon/ctl.c.
$(FUZZ_OUT)/fuzz_proto: $(FUZZ_PROTO_SRC) helper/daemon/ctl.c \
    helper/daemon/helper.h helper/log.h common/proto.h rules/rules.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(APP_INC) $(SSH_CFLAGS) -o $@ $(FUZZ_PROTO_SRC) $(FUZZ_LIBS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/corpus-rules $(FUZZ_OUT)/corpus-proto
	@rc=0; \
	echo "fuzz_rules: $(FUZZ_SECONDS) s"; \
	(cd $(FUZZ_OUT) && ./fuzz_rules $(FUZZ_RUN) \
	    -dict=$(CURDIR)/rules/fuzz-rules.dict -artifact_prefix=fuzz_rules- \
	    corpus-rules $(CURDIR)/rules/fuzz-corpus) >$(FUZZ_OUT)/fuzz_rules.log 2>&1 || rc=1; \
	grep -E '^(stat::number_of_executed_units|SUMMARY|==[0-9]+== ?ERROR|artifact_prefix|Test unit written)' \
	    $(FUZZ_OUT)/fuzz_rules.log; \
	echo "fuzz_proto: $(FUZZ_SECONDS) s"; \
	(cd $(FUZZ_OUT) && ./fuzz_proto $(FUZZ_RUN) \
	    -dict=$(CURDIR)/fuzz/fuzz-proto.dict -artifact_prefix=fuzz_proto- \
	    corpus-proto $(CURDIR)/fuzz/corpus-proto) >$(FUZZ_OUT)/fuzz_proto.log 2>&1 || rc=1; \
	grep -E '^(stat::number_of_executed_units|SUMMARY|==[0-9]+== ?ERROR|fuzz_proto: |Test unit written)' \
	    $(FUZZ_OUT)/fuzz_proto.log; \
	echo "fuzz_dns: $(FUZZ_SECONDS) s"; \
	mkdir -p $(FUZZ_OUT)/corpus-dns; \
	(cd $(FUZZ_OUT) && ./fuzz_dns $(FUZZ_RUN) \
	    -dict=$(CURDIR)/fuzz/fuzz-dns.dict -artifact_prefix=fuzz_dns- \
	    corpus-dns $(CURDIR)/fuzz/corpus-dns) >$(FUZZ_OUT)/fuzz_dns.log 2>&1 || rc=1; \
	grep -E '^(stat::number_of_executed_units|SUMMARY|==[0-9]+== ?ERROR|fuzz_dns: |Test unit written)' \
	    $(FUZZ_OUT)/fuzz_dns.log; \
	if [ $$rc != 0 ]; then echo "fuzz: FAILED (logs: $(FUZZ_OUT)/fuzz_*.log)"; exit 1; fi; \
	echo "fuzz: no crash, leak or timeout"

check-valgrind: all
	B=$(B) tests/run t-valgrind.sh

check-tsan: all
	B=$(B) tests/run t-tsan.sh

.PHONY: fuzz fuzz-build check-valgrind check-tsan

# The shim built with ThreadSanitizer, for tests/t-tsan.sh: usable only by
# a program built with -fsanitize=thread itself, whose runtime it calls
# (hence no -z defs).
TSAN_OUT  ?= $(B)/tsan
tsan-shim: $(TSAN_OUT)/libtunnelwrap.so

$(TSAN_OUT)/libtunnelwrap.so: $(SHIM_SRC) $(RULES_SRC) $(COMMON_SRC) preload/libtunnelwrap.map
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE) -g -O1 -fsanitize=thread -fno-omit-frame-pointer \
	    -fPIC -fvisibility=hidden -shared \
	    -Wl,--version-script=preload/libtunnelwrap.map -o $@ \
	    $(SHIM_SRC) $(RULES_SRC) $(COMMON_SRC) -ldl -lpthread

.PHONY: tsan-shim
