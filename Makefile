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
BASE       = -std=c11 -D_GNU_SOURCE $(WARN) -DTW_VERSION='"$(VERSION)"' \
	     -DTW_SYSCONFDIR='"$(SYSCONFDIR)"'
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

RULES_SRC  = rules/rules.c rules/match.c rules/dump.c
COMMON_SRC = common/proto.c
SHIM_SRC   = preload/shim.c preload/ipc.c preload/fdtab.c preload/names.c \
	     preload/hook-connect.c preload/hook-resolve.c preload/hook-socket.c
HELPER_SRC = helper/main.c helper/loop.c helper/ctl.c helper/relay.c \
	     helper/names.c helper/session.c helper/sshconf.c helper/status.c \
	     helper/log.c
LAUNCH_SRC = helper/launcher.c helper/client.c helper/rundir.c helper/log.c

obj = $(patsubst %.c,$(B)/obj/$(1)/%.o,$(2))

PROGS = $(B)/tunnelwrap $(B)/tunnelwrap-helper $(B)/libtunnelwrap.so \
	$(B)/test_rules

all: $(PROGS)

# The shim is a guest in other processes: libc only, hidden symbols.
$(B)/obj/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(SHIM_SAN) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -c $< -o $@

$(B)/obj/app/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) $(SSH_CFLAGS) -MMD -c $< -o $@

$(B)/libtunnelwrap.so: $(call obj,pic,$(SHIM_SRC) $(RULES_SRC) $(COMMON_SRC)) preload/libtunnelwrap.map
	$(CC) $(BASE) $(SHIM_SAN) $(CFLAGS) -shared -Wl,--version-script=preload/libtunnelwrap.map \
	    -Wl,-z,defs -Wl,-z,now -o $@ $(filter %.o,$^) -ldl -lpthread

$(B)/tunnelwrap-helper: $(call obj,app,$(HELPER_SRC) $(COMMON_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^ $(SSH_LIBS)

$(B)/tunnelwrap: $(call obj,app,$(LAUNCH_SRC) $(COMMON_SRC) $(RULES_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^ $(SSH_LIBS)

$(B)/test_rules: $(call obj,app,rules/test_rules.c $(RULES_SRC))
	$(CC) $(BASE) $(APP_SAN) $(CFLAGS) -o $@ $^

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

check: all
	$(B)/test_rules
	B=$(B) tests/run

# Sanitizer build: helper, launcher and rules with ASan+UBSan, the shim
# with UBSan; the same suite runs against it.  Any report aborts the
# process (halt_on_error), which fails the test that ran it.
asan:
	$(MAKE) B=build-asan SANITIZE=address,undefined all

check-asan: asan
	B=build-asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 tests/run

demo: all
	B=$(B) tests/demo

clean:
	rm -rf build build-asan

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(B)/tunnelwrap $(DESTDIR)$(BINDIR)/tunnelwrap
	install -m 755 $(B)/tunnelwrap-helper $(DESTDIR)$(PKGLIBDIR)/
	install -m 644 $(B)/libtunnelwrap.so $(DESTDIR)$(PKGLIBDIR)/
	install -m 644 man/tunnelwrap.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/tunnelwrap-rules.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tunnelwrap \
	    $(DESTDIR)$(PKGLIBDIR)/tunnelwrap-helper \
	    $(DESTDIR)$(PKGLIBDIR)/libtunnelwrap.so \
	    $(DESTDIR)$(MANDIR)/man1/tunnelwrap.1 \
	    $(DESTDIR)$(MANDIR)/man5/tunnelwrap-rules.5
	-rmdir $(DESTDIR)$(PKGLIBDIR)

.PHONY: all check asan check-asan demo clean install uninstall
