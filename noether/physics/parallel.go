package physics

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
)

// CheckDevices tells whether the training phases of methods can each be
// split over devices backends (Config.DataParallel): every phase's batch
// needs at least one example per device. One device (or none given) is
// always fine.
func (c Config) CheckDevices(d *Dataset, devices int, methods ...Method) error {
	if devices < 2 {
		return nil
	}
	for _, tc := range c.Phases(d, methods...) {
		if tc.BatchSize < devices {
			return fmt.Errorf("physics: the %s phase's batch of %d examples cannot be split over %d devices (each trains on a slice of every batch, at least one example): give --batch %d or more, or fewer --devices",
				tc.Label, tc.BatchSize, devices, devices)
		}
	}
	return nil
}

// trainProgram compiles the training step on batches of batch examples
// and loads it with the current parameters: one program with its updates
// on Config.Backend, or, with two or more Config.DataParallel backends, a
// noether.DataParallel over them. The one-device path is the program it
// always was, so its numbers do not move.
func (e *experiment) trainProgram(label string, batch int, step noether.StepGraph) (graph.Executor, error) {
	if len(e.cfg.DataParallel) < 2 {
		g := graph.New()
		loss, updates, err := step(g, batch)
		if err != nil {
			return nil, err
		}
		return e.program(label, g, graph.CompileOptions{Updates: updates}, loss)
	}
	dp, err := noether.NewDataParallel(e.cfg.DataParallel, batch, step)
	if err != nil {
		return nil, fmt.Errorf("physics: %s program: %w", label, err)
	}
	var shares []string
	for _, n := range dp.Shares() {
		shares = append(shares, strconv.Itoa(n))
	}
	return e.ready(fmt.Sprintf("%s program, data parallel over %d devices (%s examples per step), device 0's", label, len(shares), strings.Join(shares, " + ")), dp)
}
