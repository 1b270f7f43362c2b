package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/urfave/cli/v2"
)

// experimentFlags are the baseline and meta-training settings that train
// and formulas search share; epochs is the meta-training default.
func experimentFlags(epochs int) []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "baseline-steps", Value: 2000, Usage: "full-batch Adam steps of the MLP baseline"},
		&cli.IntFlag{Name: "epochs", Value: epochs, Usage: "meta-training epochs from the baseline (train --task pixel-pendulum: the epochs of svg-more-steps and of noether; default: the preset's)"},
		&cli.IntFlag{Name: "batch", Usage: "meta-training batch size (default: the whole training set)"},
		&cli.Float64Flag{Name: "lr", Value: 1e-3, Usage: "Adam learning rate of the baseline"},
		&cli.Float64Flag{Name: "meta-lr", Value: 1e-4, Usage: "outer Adam learning rate of the model in meta-training (fresh Adam moments: a smaller rate than the baseline's keeps the first steps from undoing it)"},
		&cli.Float64Flag{Name: "weight-decay", Value: -1, Usage: "Adam weight decay (default 1e-4; 1e-5 on the real pendulum)"},
		&cli.StringFlag{Name: "noether-step", Value: "central", Usage: "the step the physics Noether loss compares: central (x - f dt/2, x + f dt/2; unbiased to second order) or forward (x, x + f dt; the paper's, which tailoring turns into damping)"},
		&cli.IntFlag{Name: "substeps", Value: 1, Usage: "RK4 substeps per data step in rollouts"},
		&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "seed of the data, initialisation and shuffling"},
		&cli.StringFlag{Name: "out", Usage: "run folder (default runs/<task>-seed<seed>)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue from the run folder's checkpoints"},
		&cli.DurationFlag{Name: "checkpoint-every", Value: 10 * time.Second, Usage: "wall time between checkpoints (written at epoch ends)"},
	}
}

// experimentConfig reads experimentFlags for a task.
func experimentConfig(c *cli.Context, task string) (physics.Config, error) {
	cfg := physics.Config{
		BaselineSteps:   c.Int("baseline-steps"),
		BaselineLR:      float32(c.Float64("lr")),
		MetaEpochs:      c.Int("epochs"),
		MetaBatch:       c.Int("batch"),
		MetaLR:          float32(c.Float64("meta-lr")),
		Substeps:        c.Int("substeps"),
		Seed:            c.Uint64("seed"),
		Resume:          c.Bool("resume"),
		CheckpointEvery: c.Duration("checkpoint-every"),
		Dir:             c.String("out"),
		WeightDecay:     float32(c.Float64("weight-decay")),
	}
	var err error
	if cfg.Scheme, err = physics.ParseStepScheme(c.String("noether-step")); err != nil {
		return cfg, usagef("--noether-step: %w", err)
	}
	if cfg.CheckpointEvery < 0 {
		return cfg, usagef("--checkpoint-every %v: a wall time cannot be negative", cfg.CheckpointEvery)
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join("runs", fmt.Sprintf("%s-seed%d", task, cfg.Seed))
	}
	// physics.Config.Check refuses a negative weight decay given as such;
	// the flag's own default, -1, means the task's.
	if !c.IsSet("weight-decay") {
		cfg.WeightDecay = 1e-4
		if task == "real-pendulum" {
			cfg.WeightDecay = 1e-5
		}
	}
	return cfg, nil
}

// innerMethod reads the inner optimiser (--inner-opt) and the
// meta-gradient (--meta-grad) that every task's tailoring shares.
func innerMethod(c *cli.Context) (noether.InnerOpt, noether.MetaGrad, error) {
	var opt noether.InnerOpt
	switch c.String("inner-opt") {
	case "sgd":
	case "adam":
		opt = noether.InnerAdam
	default:
		return opt, 0, usagef("--inner-opt %q: want sgd or adam", c.String("inner-opt"))
	}
	mg, err := noether.ParseMetaGrad(c.String("meta-grad"))
	if err != nil {
		return opt, mg, usageError{err}
	}
	return opt, mg, nil
}
