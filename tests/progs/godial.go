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

// godial - a CGO_ENABLED=0 Go client for tests/t-seccomp.sh: raw system
// calls and Go's own resolver, no proxy variables.  One line per result.
//
//	godial http HOST:PORT...   GET / on each, print "ok http HOST:PORT peer=REMOTEADDR FIRST-BODY-LINE"
//	godial many N HOST:PORT    N goroutines dial an echo server at once
//	godial lookup NAME         net.LookupHost
//	godial srv SERVICE PROTO NAME  net.LookupSRV: "ok srv PRIO WEIGHT PORT TARGET"...
//	godial dns udp|tcp|unconnected NAME  one A query of our own to the first
//	                           nameserver of /etc/resolv.conf: "ok dns NET peer=PEER a=ADDRESS"
//	godial loop SECONDS HOST:PORT  print our parent's pid, then dial every 100 ms
//	godial bench N HOST:PORT   N connects in a row: "bench US-PER-CONNECT"
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func get(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 20*time.Second)
	if err != nil {
		return "", err
	}
	peer := c.RemoteAddr().String()
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	s := string(b)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		s = s[i+4:]
	}
	return "peer=" + peer + " " + strings.SplitN(s, "\n", 2)[0], nil
}

func echo(addr string, i int) error {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := fmt.Sprintf("goroutine %d\n", i)
	fmt.Fprint(c, msg)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != msg {
		return fmt.Errorf("echo was %q", line)
	}
	return nil
}

// query asks for name's A record over c (TCP framed when tcp); the first
// address of the answer.
func query(c net.Conn, pc net.PacketConn, to net.Addr, tcp bool, name string) (string, string, error) {
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	from := ""
	b := make([]byte, 4096)
	var n int
	var err error
	switch {
	case pc != nil:
		pc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err = pc.WriteTo(q, to); err != nil {
			return "", "", err
		}
		var a net.Addr
		n, a, err = pc.ReadFrom(b)
		if a != nil {
			from = a.String()
		}
	case tcp:
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err = c.Write(append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)); err != nil {
			return "", "", err
		}
		if _, err = io.ReadFull(c, b[:2]); err == nil {
			n = int(b[0])<<8 | int(b[1])
			_, err = io.ReadFull(c, b[:n])
		}
	default:
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err = c.Write(q); err == nil {
			n, err = c.Read(b)
		}
	}
	if err != nil {
		return "", "", err
	}
	b = b[:n]
	if n < 12 || b[0] != 0x12 || b[1] != 0x34 || int(b[6])<<8|int(b[7]) == 0 {
		return "", from, fmt.Errorf("no answer (rcode %d)", b[3]&15)
	}
	// The first A record: skip the question, then look for type 1 class 1 length 4.
	for i := len(q); i+14 <= n; i++ {
		if b[i] == 0 && b[i+1] == 1 && b[i+2] == 0 && b[i+3] == 1 && b[i+8] == 0 && b[i+9] == 4 {
			return net.IP(b[i+10 : i+14]).String(), from, nil
		}
	}
	return "", from, fmt.Errorf("no A record")
}

func nameserver() string {
	b, _ := os.ReadFile("/etc/resolv.conf")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "nameserver" {
			return net.JoinHostPort(f[1], "53")
		}
	}
	return "127.0.0.1:53"
}

func main() {
	status := 0
	switch os.Args[1] {
	case "http":
		for _, a := range os.Args[2:] {
			if line, err := get(a); err != nil {
				fmt.Printf("fail http %s -- %v\n", a, err)
				status = 1
			} else {
				fmt.Printf("ok http %s %s\n", a, line)
			}
		}
	case "many":
		n, _ := strconv.Atoi(os.Args[2])
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				if err := echo(os.Args[3], i); err != nil {
					errs <- err
				}
			}(i)
		}
		close(start)
		wg.Wait()
		close(errs)
		bad := 0
		for err := range errs {
			if bad == 0 {
				fmt.Printf("fail many -- %v\n", err)
			}
			bad++
		}
		if bad > 0 {
			status = 1
		}
		fmt.Printf("many %d of %d\n", n-bad, n)
	case "lookup":
		a, err := net.LookupHost(os.Args[2])
		if err != nil {
			fmt.Printf("fail lookup -- %v\n", err)
			status = 1
		} else {
			fmt.Printf("ok lookup %s\n", strings.Join(a, " "))
		}
	case "srv":
		_, srvs, err := net.LookupSRV(os.Args[2], os.Args[3], os.Args[4])
		if err != nil {
			fmt.Printf("fail srv -- %v\n", err)
			status = 1
		}
		for _, r := range srvs {
			fmt.Printf("ok srv %d %d %d %s\n", r.Priority, r.Weight, r.Port, r.Target)
		}
	case "dns":
		ns := nameserver()
		var a, from, peer string
		var err error
		if os.Args[2] == "unconnected" {
			var pc net.PacketConn
			var to *net.UDPAddr
			if pc, err = net.ListenPacket("udp", ":0"); err == nil {
				if to, err = net.ResolveUDPAddr("udp", ns); err == nil {
					a, from, err = query(nil, pc, to, false, os.Args[3])
				}
				peer = "from=" + from
			}
		} else {
			var c net.Conn
			if c, err = net.Dial(os.Args[2], ns); err == nil {
				peer = "peer=" + c.RemoteAddr().String()
				a, _, err = query(c, nil, nil, os.Args[2] == "tcp", os.Args[3])
			}
		}
		if err != nil {
			fmt.Printf("fail dns %s %s -- %v\n", os.Args[2], peer, err)
			status = 1
		} else {
			fmt.Printf("ok dns %s %s a=%s\n", os.Args[2], peer, a)
		}
	case "loop":
		secs, _ := strconv.Atoi(os.Args[2])
		fmt.Printf("ppid %d\n", os.Getppid())
		end := time.Now().Add(time.Duration(secs) * time.Second)
		for time.Now().Before(end) {
			c, err := net.DialTimeout("tcp", os.Args[3], 5*time.Second)
			if err != nil {
				fmt.Printf("dial error %v\n", err)
			} else {
				fmt.Printf("dial ok\n")
				c.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
	case "bench":
		n, _ := strconv.Atoi(os.Args[2])
		t := time.Now()
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", os.Args[3])
			if err != nil {
				fmt.Printf("fail bench -- %v\n", err)
				os.Exit(1)
			}
			c.Close()
		}
		fmt.Printf("bench %.1f\n", float64(time.Since(t).Microseconds())/float64(n))
	}
	os.Exit(status)
}
