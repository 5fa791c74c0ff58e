// Go peer for TLS echo (run with GOMAXPROCS=1): crypto/tls over net, one goroutine per
// connection, read up to 4096 bytes and write them back until end of stream, the same echo
// as `asyncio_bench tls-server`. Go's defaults throughout (TLS 1.3, its cipher choice, its
// record sizing); TCP_NODELAY is Go's default for TCP connections.
// Usage: go-tls-echo PORT CERT KEY
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-tls-echo PORT CERT KEY")
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(os.Args[2], os.Args[3])
	if err != nil {
		panic(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:"+os.Args[1], &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		panic(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		go echo(c)
	}
}
