// SP peer: Go's os/exec, Command("/bin/true").Run() one child at a time (start + wait):
// microseconds per child.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

const children = 1000

func main() {
	label := "go"
	if len(os.Args) > 1 {
		label = os.Args[1]
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		panic(err)
	}
	t0 := time.Now()
	for i := 0; i < children; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			panic(err)
		}
	}
	s := time.Since(t0).Seconds()
	fmt.Printf("SP %s us_per_child=%.1f children=%d wall_s=%.3f\n", label, s*1e6/children, children, s)
}
