package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/noether/shard"
)

// shardFlags are --shard and --shard-count, for the commands whose work
// splits over the tasks of a scheduler's array job (formulas, sweep).
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", Value: "0/1", Usage: "i/N: do the i-th of N equal parts of the work; auto: the part a Slurm array job (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) gives this task"},
		&cli.IntFlag{Name: "shard-count", EnvVars: []string{shard.CountEnv}, Usage: "with --shard auto under Kubernetes: the Job's completions (Kubernetes does not tell a pod); under Slurm it must equal the array's size"},
	}
}

// shardOf reads --shard and --shard-count; errors are usage errors.
func shardOf(c *cli.Context) (shard.Shard, error) {
	s, err := shard.Resolve(c.String("shard"), c.Int("shard-count"), os.LookupEnv)
	if err != nil {
		return s, usagef("--shard: %w", err)
	}
	return s, nil
}
