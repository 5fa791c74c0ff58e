// Go peer for W8 (queue hand-off) and W9 (semaphore-bounded fan-out); run with GOMAXPROCS=1.
// Usage: peer-go W8|W9 [label]; prints one KEY=VALUE line like asyncio_bench.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var label = "go"

func w8() {
	const items = 1000000
	t0 := time.Now()
	ch := make(chan int, 64)
	done := make(chan int64)
	go func() {
		var sum int64
		for i := 0; i < items; i++ {
			sum += int64(<-ch)
		}
		done <- sum
	}()
	go func() {
		for i := 0; i < items; i++ {
			ch <- i
		}
	}()
	sum := <-done
	s := time.Since(t0).Seconds()
	if sum != int64(items)*(items-1)/2 {
		panic("wrong sum")
	}
	fmt.Printf("W8 %s ns_per_item=%.1f wall_s=%.3f\n", label, s*1e9/items, s)
}

func w9() {
	const tasks = 100000
	sem := make(chan struct{}, 100) // a buffered channel as the semaphore
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(tasks)
	for i := 0; i < tasks; i++ {
		go func() {
			sem <- struct{}{}
			runtime.Gosched()
			<-sem
			wg.Done()
		}()
	}
	wg.Wait()
	s := time.Since(t0).Seconds()
	fmt.Printf("W9 %s ns_per_task=%.1f wall_s=%.3f\n", label, s*1e9/tasks, s)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peer-go W8|W9 [label]")
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		label = os.Args[2]
	}
	switch os.Args[1] {
	case "W8":
		w8()
	case "W9":
		w9()
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", os.Args[1])
		os.Exit(2)
	}
}
