// UDP echo peer: Go's net.UDPConn on 127.0.0.1:PORT, one goroutine reading a datagram and
// writing it back to its sender (GOMAXPROCS=1 from bench/peers/udp.sh, as the W6 peers).
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_udp PORT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_udp: bad port")
		os.Exit(2)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_udp:", err)
		os.Exit(1)
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		conn.WriteToUDPAddrPort(buf[:n], from)
	}
}
