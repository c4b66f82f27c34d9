/*
 * Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

// goprobe - a plain Go client for tests/t-prog-runtimes.sh: net.LookupHost,
// net.Dial with an echo, and net/http, each printed as "ok NAME (note)" or
// "fail NAME -- detail".
//
//	goprobe ECHOHOST WEBHOST
//
// Built both ways: CGO_ENABLED=1 (run with GODEBUG=netdns=cgo, so names go
// through libc's getaddrinfo) and CGO_ENABLED=0 (static: Go's own resolver
// and raw system calls throughout).
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

var failures int

func step(name string, f func() (string, error)) {
	note, err := f()
	if err != nil {
		failures++
		fmt.Printf("fail %s -- %v\n", name, err)
		return
	}
	if note != "" {
		fmt.Printf("ok %s (%s)\n", name, note)
	} else {
		fmt.Printf("ok %s\n", name)
	}
}

func main() {
	echo, web := os.Args[1], os.Args[2]
	step("net.LookupHost", func() (string, error) {
		a, err := net.LookupHost(web)
		return strings.Join(a, " "), err
	})
	step("net.Dial, echo", func() (string, error) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(echo, "7"), 20*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "ping from go\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return "", err
		}
		if line != "ping from go\n" {
			return "", fmt.Errorf("echo was %q", line)
		}
		return "peer " + c.RemoteAddr().String(), nil
	})
	step("net/http GET", func() (string, error) {
		cl := &http.Client{Timeout: 20 * time.Second}
		r, err := cl.Get("http://" + web + "/")
		if err != nil {
			return "", err
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", err
		}
		if r.StatusCode != 200 || !strings.Contains(string(b), "intranet wiki OK") {
			return "", fmt.Errorf("HTTP %d: %q", r.StatusCode, b)
		}
		return "", nil
	})
	if failures > 0 {
		os.Exit(1)
	}
}
