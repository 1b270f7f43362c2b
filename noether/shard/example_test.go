package shard_test

import (
	"fmt"

	"github.com/noether-vk/noether-vk/noether/shard"
)

// Task 2 of a Slurm array submitted with --array=1-4 is share 1 of 4.
func ExampleResolve() {
	env := map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}
	s, err := shard.Resolve("auto", 0, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(s, err)
	lo, hi := s.Block(10)
	fmt.Println(lo, hi)
	// Output:
	// 1/4 <nil>
	// 2 5
}
