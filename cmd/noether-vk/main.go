// Command noether-vk trains and evaluates Noether Networks on any Vulkan
// device, and inspects and benchmarks the device it runs on.
//
//	noether-vk train [--task pendulum|spring|real-pendulum] [--method LIST] [--loss FORMULA] ...
//	noether-vk formulas enumerate --system S [--depth N] [--json FILE]
//	noether-vk formulas fit --system S [--shard i/N] [--json FILE] ...
//	noether-vk formulas search --system S [--shard i/N] [--out DIR] [--json FILE] ...
//	noether-vk formulas merge --json FILE PART.json ...
//	noether-vk selftest [--json FILE] [--ops LIST]
//	noether-vk bench-kernels [--quick] [--json FILE] [--ops LIST]
//	noether-vk devices [--json FILE]
//
// Global flags choose the device (--device, or NOETHER_VK_DEVICE), turn on
// the Vulkan validation layer (--validate) and set lavapipe's worker
// threads (--lp-threads). Run `noether-vk help` for everything.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
)

// GLFW (the live viewer, gpu/window) must run on the main OS thread.
func init() { runtime.LockOSThread() }

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "noether-vk:", err)
		os.Exit(exitCode(err))
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "noether-vk",
		Usage:   "Noether Networks (meta-learned conservation losses at prediction time) on Vulkan",
		Version: version,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "device",
				Usage:   "Vulkan device: an index or a name substring from `noether-vk devices` (default: discrete > integrated > virtual > CPU)",
				EnvVars: []string{"NOETHER_VK_DEVICE"},
			},
			&cli.StringFlag{
				Name:    "validate",
				Usage:   "Vulkan validation layer: off, on, or sync (adds synchronization validation); needs vulkan-validationlayers",
				Value:   "off",
				EnvVars: []string{"NOETHER_VK_VALIDATE"},
			},
			&cli.IntFlag{
				Name:    "lp-threads",
				Usage:   "lavapipe worker threads (LP_NUM_THREADS); 0 runs dispatches on the calling thread (cheaper per dispatch, one core per kernel); -1 leaves the driver default",
				Value:   -1,
				EnvVars: []string{"NOETHER_VK_LP_THREADS"},
			},
		},
		Commands: []*cli.Command{devicesCommand(), selftestCommand(), benchCommand(), trainCommand(), formulasCommand()},
	}
}

// gpuOptions turns the global flags into gpu.Options.
func gpuOptions(c *cli.Context) (gpu.Options, error) {
	var o gpu.Options
	o.Device = c.String("device")
	switch v := c.String("validate"); v {
	case "off", "0", "false", "":
	case "on", "1", "true":
		o.Validate = true
	case "sync":
		o.Validate, o.SyncValidation = true, true
	default:
		return o, fmt.Errorf("--validate %q: want off, on or sync", v)
	}
	if n := c.Int("lp-threads"); n >= 0 {
		o.SetLavapipeThreads, o.LavapipeThreads = true, n
	}
	return o, nil
}

// exitCode distinguishes environment problems (no loader or device: 3)
// from other failures (1), so scripts can tell them apart.
func exitCode(err error) int {
	if errors.Is(err, gpu.ErrNoLoader) || errors.Is(err, gpu.ErrNoDevice) {
		return 3
	}
	return 1
}
