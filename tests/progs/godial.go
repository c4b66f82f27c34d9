// godial - a CGO_ENABLED=0 Go client for tests/t-seccomp.sh: raw system
// calls and Go's own resolver, no proxy variables.  One line per result.
//
//	godial http HOST:PORT...   GET / on each, print "ok http HOST:PORT peer=REMOTEADDR FIRST-BODY-LINE"
//	godial many N HOST:PORT    N goroutines dial an echo server at once
//	godial lookup NAME         net.LookupHost
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
