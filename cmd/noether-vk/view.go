package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu/window"
	"github.com/noether-vk/noether-vk/kernels/compose"
	"github.com/noether-vk/noether-vk/noether/physics"
	"github.com/noether-vk/noether-vk/noether/view"
)

func viewCommand() *cli.Command {
	return &cli.Command{
		Name:      "view",
		Usage:     "show a run folder in a window: phase portraits and RMSE of the rollouts, training losses, video frames and Grad-CAM heat maps; follows a run still being written",
		ArgsUsage: "RUN_DIR",
		Description: `Opens the run folder a train command wrote (its --out), finished or still running, and
animates the test rollouts step by step. While the run is written, new epochs, rollouts and
Grad-CAM maps appear as they land.

Keys: ` + view.Keys + `.

Without a display (no X server), --frames DIR writes the same composed frames as PNG files
instead: one per step of the example's animation.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "frames", Usage: "write the frames as PNG files into this folder (frame_0000.png, ...) instead of opening a window; needs no display"},
			&cli.StringFlag{Name: "size", Value: "960x600", Usage: "frame size WIDTHxHEIGHT: the window's first size, or the files'"},
			&cli.IntFlag{Name: "example", Value: 1, Usage: "the test example shown first (--frames: the one written)"},
			&cli.IntFlag{Name: "component", Value: 1, Usage: "the principal component whose Grad-CAM maps are shown first (1-6)"},
			&cli.Float64Flag{Name: "fps", Value: 15, Usage: "animation steps per second"},
			&cli.StringFlag{Name: "screenshots", Value: ".", Usage: "folder the s key writes screenshots into"},
		},
		Action: runView,
	}
}

func runView(c *cli.Context) error {
	args := positional(c)
	if len(args) != 1 {
		return usagef("view: give one run folder (the --out of a train command), not %d arguments", len(args))
	}
	width, height, err := parseSize(c.String("size"))
	if err != nil {
		return usageError{fmt.Errorf("view: --size: %w", err)}
	}
	if c.Float64("fps") <= 0 {
		return usagef("view: --fps %v: want a positive rate", c.Float64("fps"))
	}
	folder, err := view.OpenFolder(args[0])
	if err != nil {
		return err
	}
	st := view.State{Example: c.Int("example") - 1, Component: c.Int("component") - 1}
	if dir := c.String("frames"); dir != "" {
		return writeFrames(c, folder.Run(), &st, dir, width, height)
	}
	o, err := gpuOptions(c)
	if err != nil {
		return err
	}
	w, err := window.Open(window.Config{Title: "noether-vk view " + args[0], Width: width, Height: height, Device: o})
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	defer w.Close()
	if note := w.Note(); note != "" {
		fmt.Fprintln(c.App.ErrWriter, "view:", note)
	}
	src := &followed{folder: folder}
	return viewLoop(w, src, &st, loopOptions{fps: c.Float64("fps"), screenshots: c.String("screenshots"), out: c.App.ErrWriter})
}

// parseSize reads WIDTHxHEIGHT.
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 64 || h < 64 || w > compose.MaxSide || h > compose.MaxSide {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT, each side 64 to %d pixels, e.g. 960x600", s, compose.MaxSide)
	}
	return w, h, nil
}

// writeFrames composes every step of the example's animation on the
// device and writes each as a PNG file: what the window would show.
func writeFrames(c *cli.Context, r *view.Run, st *view.State, dir string, width, height int) error {
	d, err := openDevice(c, "view")
	if err != nil {
		return err
	}
	defer d.Close()
	comp, err := compose.NewComposer(d)
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	defer comp.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("view: --frames: %w", err)
	}
	st.Fit(r)
	steps := r.Steps(st.Example)
	for t := range steps {
		st.Step = t
		frame, err := comp.Frame(view.Scene(r, st, width, height))
		if err != nil {
			return fmt.Errorf("view: %w", err)
		}
		if err := view.WritePNG(filepath.Join(dir, fmt.Sprintf("frame_%04d.png", t)), frame, width, height); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.Writer, "view: %d frames of example %d (%dx%d) in %s\n", steps, st.Example+1, width, height, dir)
	return nil
}

// viewSource is what a viewer window shows: a run folder it follows, or a
// trainer's events.
type viewSource interface {
	// Update takes in what changed and reports whether anything did.
	Update() bool
	Run() *view.Run
}

// followed is a run folder re-read at most every refreshEvery.
type followed struct {
	folder *view.Folder
	last   time.Time
}

const refreshEvery = time.Second

func (f *followed) Update() bool {
	if time.Since(f.last) < refreshEvery {
		return false
	}
	f.last = time.Now()
	changed, err := f.folder.Refresh()
	return changed || err != nil
}

func (f *followed) Run() *view.Run { return f.folder.Run() }

// loopOptions tune viewLoop.
type loopOptions struct {
	fps         float64 // animation steps a second
	maxFPS      float64 // frames composed a second at most (0: no limit but fps)
	screenshots string  // where the s key writes
	out         io.Writer
	// done, when closed, ends the loop (the training it shows ended).
	done <-chan struct{}
}

// viewHook, when set (by tests), is called after every frame shown with
// the frame's number; the keys it returns are handled as if pressed.
var viewHook func(frame int, w *window.Window) []window.Key

// viewLoop shows src in w until the window closes, q or Escape is
// pressed, or o.done closes. A frame is composed only when something
// changed: the data, the state, the window's size.
func viewLoop(w *window.Window, src viewSource, st *view.State, o loopOptions) error {
	comp, err := compose.NewComposer(w.Device())
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	defer comp.Close()
	period := time.Duration(float64(time.Second) / o.fps)
	minGap := time.Duration(0)
	if o.maxFPS > 0 {
		minGap = time.Duration(float64(time.Second) / o.maxFPS)
	}
	nextStep := time.Now().Add(period)
	var lastFrame time.Time
	dirty, shown := true, 0
	lastW, lastH := 0, 0
	shots := 0
	// handle applies keys; it reports whether to stop.
	handle := func(keys []window.Key) bool {
		for _, k := range keys {
			switch st.Key(string(k), src.Run()) {
			case view.Quit:
				return true
			case view.Screenshot:
				path, err := screenshot(comp, src.Run(), st, lastW, lastH, o.screenshots, &shots)
				if err != nil {
					fmt.Fprintln(o.out, "view:", err)
				} else {
					fmt.Fprintln(o.out, "view: screenshot", path)
				}
			}
			dirty = true
		}
		return false
	}
	for {
		if w.ShouldClose() || closed(o.done) {
			return nil
		}
		if src.Update() {
			dirty = true
		}
		if handle(w.Keys()) {
			return nil
		}
		width, height, err := w.Extent()
		if err != nil {
			return fmt.Errorf("view: %w", err)
		}
		if width != lastW || height != lastH {
			lastW, lastH, dirty = width, height, true
		}
		now := time.Now()
		if dirty && width > 0 && now.Sub(lastFrame) >= minGap {
			frame, err := comp.Compose(view.Scene(src.Run(), st, width, height))
			if err != nil {
				return fmt.Errorf("view: %w", err)
			}
			switch err := w.Present(frame); {
			case errors.Is(err, window.ErrStale):
				continue
			case err != nil:
				return fmt.Errorf("view: %w", err)
			}
			dirty, lastFrame = false, now
			shown++
			if viewHook != nil {
				if handle(viewHook(shown, w)) {
					return nil
				}
			}
		}
		if now = time.Now(); !now.Before(nextStep) {
			if st.Advance(src.Run()) {
				dirty = true
			}
			nextStep = now.Add(period)
		}
		wait := time.Until(nextStep)
		if dirty && minGap > 0 {
			wait = min(wait, time.Until(lastFrame.Add(minGap)))
		}
		w.Poll(max(wait, time.Millisecond))
	}
}

// closed reports whether ch is closed (nil never is).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// screenshot writes the frame st shows into dir as the first
// noether-vk-view-NNN.png not there yet.
func screenshot(comp *compose.Composer, r *view.Run, st *view.State, width, height int, dir string, n *int) (string, error) {
	if width == 0 || height == 0 {
		return "", errors.New("no frame to save while the window is minimised")
	}
	frame, err := comp.Frame(view.Scene(r, st, width, height))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("screenshot: %w", err)
	}
	for {
		*n++
		path := filepath.Join(dir, fmt.Sprintf("noether-vk-view-%03d.png", *n))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		return path, view.WritePNG(path, frame, width, height)
	}
}

// trainWithViewer runs the physics methods with the sinks a run folder
// needs for the viewer (the rollouts it draws) and, with --live, shows
// the training in a window fed by one more sink. The window runs on this
// goroutine (GLFW's thread) and training on another; the sink never
// blocks, so the window can neither slow nor stop training: closing it
// lets training go on, and the window closes when training ends.
func trainWithViewer(c *cli.Context, cfg physics.Config, data *physics.Dataset, methods []physics.Method) ([]*physics.Result, error) {
	rollouts, err := view.NewRolloutWriter(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Sinks = append(cfg.Sinks, rollouts)
	if !c.Bool("live") {
		return cfg.Run(data, methods...)
	}
	live := view.NewLive(data.Name, cfg.Dir)
	cfg.Sinks = append(cfg.Sinks, live)
	var results []*physics.Result
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		results, runErr = cfg.Run(data, methods...)
	}()
	showLive(c, live, done)
	<-done
	return results, runErr
}

// showLive shows a Live sink's run in a window until training ends or the
// window is closed; any failure of the window is reported and leaves
// training alone.
func showLive(c *cli.Context, live *view.Live, done <-chan struct{}) {
	defer live.Close()
	errw := c.App.ErrWriter
	o, err := gpuOptions(c)
	if err == nil {
		var w *window.Window
		if w, err = window.Open(window.Config{Title: "noether-vk train --live " + live.Run().Dir, Width: 960, Height: 600, Device: o}); err == nil {
			defer w.Close()
			if note := w.Note(); note != "" {
				fmt.Fprintln(errw, "train --live:", note)
			}
			err = viewLoop(w, live, &view.State{}, loopOptions{fps: liveFPS, maxFPS: liveFPS, screenshots: ".", out: errw, done: done})
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(errw, "train --live: %v; training goes on without the viewer\n", err)
	case !closed(done):
		fmt.Fprintln(errw, "train --live: the viewer closed; training goes on")
	}
}

// liveFPS bounds the frames the live viewer composes a second, and its
// animation's steps: its share of the machine stays small.
const liveFPS = 4
