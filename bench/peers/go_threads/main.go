// TT peer: Go's goroutine + channel round trip: start a goroutine running a no-op, receive its
// result on a channel; ns per call, one in flight (GOMAXPROCS as the machine gives).
package main

import (
	"fmt"
	"os"
	"time"
)

const roundTrips = 20000

func main() {
	label := "go"
	if len(os.Args) > 1 {
		label = os.Args[1]
	}
	done := make(chan struct{})
	go func() { done <- struct{}{} }()
	<-done
	t0 := time.Now()
	for i := 0; i < roundTrips; i++ {
		go func() { done <- struct{}{} }()
		<-done
	}
	s := time.Since(t0).Seconds()
	fmt.Printf("TT %s ns_per_call=%.1f wall_s=%.3f\n", label, s*1e9/roundTrips, s)
}
