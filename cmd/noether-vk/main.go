// Command noether-vk trains and evaluates Noether Networks on any Vulkan
// device, and inspects and benchmarks the device it runs on.
//
//	noether-vk train [--task pendulum|spring|real-pendulum] [--method LIST] [--loss FORMULA] ...
//	noether-vk train --task pixel-pendulum [--preset default|paper] [--method svg,svg-more-steps,noether] ...
//	noether-vk train --task ramp|physics101 [--data DIR] [--preset default|paper] [--lpips FILE] ...
//	noether-vk plot RUN_DIR [RUN_DIR ...] [--out DIR]
//	noether-vk formulas enumerate --system S [--depth N] [--json FILE]
//	noether-vk formulas fit --system S [--shard i/N] [--json FILE] ...
//	noether-vk formulas search --system S [--shard i/N] [--out DIR] [--json FILE] ...
//	noether-vk formulas merge --json FILE PART.json ...
//	noether-vk sweep list|run|merge FILE [--shard i/N|auto] [--out DIR]
//	noether-vk gradcam --run DIR [--sequences 0,1,2] [--steps LIST] [--out DIR]
//	noether-vk selftest [--json FILE] [--ops LIST]
//	noether-vk bench-kernels [--quick] [--json FILE] [--ops LIST] [--no-tune]
//	noether-vk tune [--shapes train,bench] [--quick] [--cache FILE]
//	noether-vk devices [--json FILE]
//
// Global flags choose the device (--device, or NOETHER_VK_DEVICE), turn on
// the Vulkan validation layer (--validate) and set lavapipe's worker
// threads (--lp-threads). Run `noether-vk help` for everything. A
// command's flags may come before or after its arguments.
//
// Exit status: 0 success; 1 failure (for train: also when some methods
// failed and the others were reported); 2 a wrong command line (nothing
// was run); 3 no Vulkan loader or device; 4 train stopped by SIGINT or
// SIGTERM after writing a checkpoint (--resume continues).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

// GLFW (the live viewer, gpu/window) must run on the main OS thread.
func init() { runtime.LockOSThread() }

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses, for scripts (the README lists them too).
const (
	exitError    = 1 // the command failed, or some of a train's methods did
	exitUsage    = 2 // the command line is wrong: nothing was run
	exitNoDevice = 3 // no Vulkan loader or no usable device
	// exitStopped: a SIGINT or SIGTERM stopped a train after the current
	// step, with a checkpoint that --resume continues from.
	exitStopped = 4
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "noether-vk:", err)
		os.Exit(exitCode(err))
	}
}

func newApp() *cli.App {
	app := &cli.App{
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
		Commands: []*cli.Command{devicesCommand(), selftestCommand(), benchCommand(), tuneCommand(), trainCommand(), formulasCommand(), sweepCommand(), viewCommand(), gradcamCommand(), plotCommand()},
		// Errors are returned to main, which picks the exit status: the
		// library's own handler would exit from inside Run.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Action:         unknownCommand,
	}
	for _, cmd := range app.Commands {
		strict(cmd)
	}
	return app
}

// usageError is a wrong command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef is a usageError with a formatted message.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// onUsageError marks the errors of flag parsing as usage errors, with
// where to read about the flags.
func onUsageError(c *cli.Context, err error, _ bool) error {
	name := c.App.Name
	if c.Command != nil && c.Command.Name != "" {
		name = c.Command.FullName()
	}
	return usagef("%w (see %s --help)", err, name)
}

// unknownCommand is the action of the program and of commands with
// subcommands: their help, or a usage error for a name that is no
// command (the library's own answer exits with the status for "no
// device").
func unknownCommand(c *cli.Context) error {
	if !c.Args().Present() {
		if c.Command != nil && c.Command.Name != "" {
			return cli.ShowSubcommandHelp(c)
		}
		return cli.ShowAppHelp(c)
	}
	var names []string
	cmds := c.App.Commands
	if c.Command != nil && c.Command.Name != "" {
		cmds = c.Command.Subcommands
	}
	for _, sub := range cmds {
		if sub.Name != "help" {
			names = append(names, sub.Name)
		}
	}
	return usagef("unknown command %q: the commands are %s", c.Args().First(), strings.Join(names, ", "))
}

// strict makes cmd and its subcommands refuse what they would otherwise
// ignore: flags that follow positional arguments are parsed (Go's flag
// package, under urfave/cli v2, stops at the first positional argument and
// leaves the rest as arguments), and a command that takes no arguments
// refuses any.
func strict(cmd *cli.Command) {
	cmd.OnUsageError = onUsageError
	if len(cmd.Subcommands) > 0 {
		cmd.Action = unknownCommand
		for _, sub := range cmd.Subcommands {
			strict(sub)
		}
		return
	}
	action, takesArgs := cmd.Action, cmd.ArgsUsage != ""
	cmd.Action = func(c *cli.Context) error {
		args, help, err := interspersed(c)
		if err != nil || help {
			return err
		}
		if !takesArgs && len(args) > 0 {
			return usagef("%s takes no arguments, but was given %q: flags are written --name value, before or after a command's arguments", c.Command.FullName(), args)
		}
		c.Context = context.WithValue(c.Context, argsKey{}, args)
		return action(c)
	}
}

// argsKey holds a command's positional arguments in its context.
type argsKey struct{}

// positional returns the arguments strict's parsing left.
func positional(c *cli.Context) []string {
	args, _ := c.Context.Value(argsKey{}).([]string)
	return args
}

// interspersed parses the flags among a command's remaining arguments
// and returns the positional ones; help is true when it printed the
// command's help for a --help among them.
func interspersed(c *cli.Context) (args []string, help bool, err error) {
	rest := c.Args().Slice()
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if len(a) < 2 || a[0] != '-' {
			args = append(args, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil, true, cli.ShowSubcommandHelp(c)
		}
		var flag cli.Flag
		for _, f := range c.Command.Flags {
			if slices.Contains(f.Names(), name) {
				flag = f
			}
		}
		if flag == nil {
			return nil, false, usagef("%s: flag provided but not defined: %s (see %s --help)", c.Command.FullName(), a, c.Command.FullName())
		}
		if _, isBool := flag.(*cli.BoolFlag); isBool && !hasVal {
			val = "true"
		} else if !hasVal {
			if i+1 == len(rest) {
				return nil, false, usagef("%s: flag needs an argument: %s", c.Command.FullName(), a)
			}
			i++
			val = rest[i]
		}
		if err := c.Set(flag.Names()[0], val); err != nil {
			return nil, false, usagef("%s: invalid value %q for flag %s: %v", c.Command.FullName(), val, a, err)
		}
	}
	return args, false, nil
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
		return o, usagef("--validate %q: want off, on or sync", v)
	}
	if n := c.Int("lp-threads"); n >= 0 {
		o.SetLavapipeThreads, o.LavapipeThreads = true, n
	}
	return o, nil
}

// exitCode is the exit status of a command's error (see the exit*
// constants).
func exitCode(err error) int {
	var usage usageError
	var exit cli.ExitCoder // the library's own usage errors
	switch {
	case errors.Is(err, gpu.ErrNoLoader) || errors.Is(err, gpu.ErrNoDevice):
		return exitNoDevice
	case errors.Is(err, noether.ErrStopped):
		return exitStopped
	case errors.As(err, &usage) || errors.As(err, &exit) || errors.Is(err, rundir.ErrHoldsRun):
		return exitUsage
	}
	return exitError
}

// codeVersion names the code that runs, for run folders' manifests: the
// version set at build time, or the commit the build info records.
func codeVersion() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return version
	}
	return rev + dirty
}
