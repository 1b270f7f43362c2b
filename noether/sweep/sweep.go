package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/shard"
)

// Runner runs a sweep's points; the command line's runs train in the same
// process.
type Runner interface {
	// Plan checks a point, before anything runs, and says what its run
	// folder records once the point is complete.
	Plan(p Point) (Plan, error)
	// Run runs the point into the run folder dir, continuing what the
	// folder holds (train's --resume).
	Run(p Point, dir string) error
}

// Plan is what a complete point's run folder records in its manifest.
type Plan struct {
	Method string            // the key of the point's result
	Run    map[string]string // the run-wide settings (Manifest.Settings)
	Result map[string]string // the result's settings
	// Shared is the training phase the point starts from, which every
	// point with the same Run settings and the same Shared phase may
	// lend it (the baseline); a zero Label: none.
	Shared Phase
}

// Phase is a training phase as a manifest records it.
type Phase struct {
	Label    string
	Settings map[string]string
	Epochs   int
}

// Sweep is a sweep file's points, planned, with their run folders under
// Out.
type Sweep struct {
	Description string
	Out         string
	Numbers     []string // the results tabulated; none: every one
	Points      []Point
	Plans       []Plan // by point
	order       []int  // the points in the order they run
}

// New plans every point of f (every one is checked before anything runs)
// with its run folder under out.
func New(f *File, out string, r Runner) (*Sweep, error) {
	points, err := f.Points()
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s := &Sweep{Description: f.Description, Out: out, Numbers: f.Numbers, Points: points}
	var problems []string
	for _, p := range points {
		plan, err := r.Plan(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("point %d (%s): %v", p.Index+1, p, err))
		}
		s.Plans = append(s.Plans, plan)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("sweep: %d of %d points are wrong:\n  %s", len(problems), len(points), strings.Join(problems, "\n  "))
	}
	s.order = groupOrder(s.Plans)
	return s, nil
}

// sharedKey identifies the phase a plan shares: equal keys, equal phases.
func (p Plan) sharedKey() string {
	if p.Shared.Label == "" {
		return ""
	}
	b, _ := json.Marshal(struct { // maps marshal in key order
		Run   map[string]string
		Phase Phase
	}{p.Run, p.Shared})
	return string(b)
}

// groupOrder orders points so that those sharing a phase are adjacent:
// groups in the order of their first point, points in file order within
// a group.
func groupOrder(plans []Plan) []int {
	var keys []string
	groups := map[string][]int{}
	for i, p := range plans {
		k := p.sharedKey()
		if k == "" {
			k = fmt.Sprintf("point %d", i)
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	var order []int
	for _, k := range keys {
		order = append(order, groups[k]...)
	}
	return order
}

// Share lists the points shard sh runs, in the order it runs them.
func (s *Sweep) Share(sh shard.Shard) []int {
	lo, hi := sh.Block(len(s.order))
	return s.order[lo:hi]
}

// Dir is the run folder of point i.
func (s *Sweep) Dir(i int) string { return filepath.Join(s.Out, s.Points[i].Dir) }

// Status is what a point's run folder holds.
type Status struct {
	Complete bool
	// Why an incomplete point is: no run yet, killed, failed, or made
	// under other settings.
	Why     string
	Numbers map[string]float64 // a complete point's results
}

// Status reads point i's run folder.
func (s *Sweep) Status(i int) Status {
	plan := s.Plans[i]
	m, err := rundir.ReadManifest(s.Dir(i))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Status{Why: "not run yet"}
	case err != nil:
		return Status{Why: err.Error()}
	}
	if d := differences(plan.Run, m.Settings); d != "" {
		return Status{Why: "the run folder holds a run under other settings (" + d + ")"}
	}
	r := m.Results[plan.Method]
	if r == nil {
		why := "no result yet"
		if n := len(m.Commands); n > 0 {
			switch last := m.Commands[n-1]; last.State {
			case rundir.StateRunning:
				why += ": its last run is running or was killed"
			case rundir.StateStopped:
				why += ": its last run was stopped"
			case rundir.StateFailed:
				why += ": its last run failed: " + last.Error
			}
		}
		return Status{Why: why}
	}
	if r.State != rundir.StateDone {
		return Status{Why: fmt.Sprintf("its result is %s: %s", r.State, r.Error)}
	}
	if d := differences(plan.Result, r.Settings); d != "" {
		return Status{Why: "its result was made under other settings (" + d + ")"}
	}
	return Status{Complete: true, Numbers: r.Numbers}
}

// differences lists the settings in which got differs from want, or "".
func differences(want, got map[string]string) string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g != want[k] {
			d = append(d, fmt.Sprintf("%s %q, not %q", k, g, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s %q, which this sweep's point does not set", k, got[k]))
		}
	}
	return strings.Join(d, "; ")
}

// Halt marks a Runner's error as one every other point would meet too
// (no device, say): Run stops at it instead of trying the rest.
func Halt(err error) error { return halted{err} }

type halted struct{ error }

func (h halted) Unwrap() error { return h.error }

// halts reports whether err stops a run: a stop on request, or Halt.
func halts(err error) bool {
	var h halted
	return errors.Is(err, noether.ErrStopped) || errors.As(err, &h)
}

// Outcome is what Run did with one point.
type Outcome struct {
	Point   int
	Skipped bool  // complete already
	Lent    bool  // started from another point's shared phase
	Err     error // its run failed
}

// Run runs the points of shard sh in order: it skips complete ones and
// runs the others with r, each after lending it the shared phase of a
// finished point when its folder has none. A failed point does not stop
// the others; the error joins every failure. A closed stop ends the run
// before the next point, with an error wrapping noether.ErrStopped (a
// point that does not train may finish rather than stop), and so does a
// point's error wrapping noether.ErrStopped or marked with Halt. log gets
// one line per point.
func (s *Sweep) Run(sh shard.Shard, r Runner, log io.Writer, stop <-chan struct{}) ([]Outcome, error) {
	var out []Outcome
	var failed []error
	share := s.Share(sh)
	for k, i := range share {
		p := s.Points[i]
		if noether.Stopped(stop) {
			return out, errors.Join(append(failed, fmt.Errorf("sweep: %w before point #%d (%s)", noether.ErrStopped, i+1, p))...)
		}
		o := Outcome{Point: i}
		head := fmt.Sprintf("sweep: shard %s, point %d of %d (#%d): %s", sh, k+1, len(share), i+1, p)
		st := s.Status(i)
		if st.Complete {
			o.Skipped = true
			fmt.Fprintf(log, "%s: complete, skipped\n", head)
			out = append(out, o)
			continue
		}
		fmt.Fprintf(log, "%s: %s; running into %s\n", head, st.Why, s.Dir(i))
		lent, err := s.lend(i)
		if err != nil {
			fmt.Fprintf(log, "sweep: point #%d trains its own %s: %v\n", i+1, s.Plans[i].Shared.Label, err)
		}
		o.Lent = lent
		if err := r.Run(p, s.Dir(i)); err != nil {
			o.Err = fmt.Errorf("point #%d (%s): %w", i+1, p, err)
			out = append(out, o)
			if halts(err) {
				return out, o.Err
			}
			failed = append(failed, o.Err)
			fmt.Fprintf(log, "sweep: point #%d failed: %v\n", i+1, err)
			continue
		}
		if st := s.Status(i); !st.Complete {
			o.Err = fmt.Errorf("point #%d (%s) ran, but its run folder %s is not complete: %s", i+1, p, s.Dir(i), st.Why)
			failed = append(failed, o.Err)
		}
		out = append(out, o)
	}
	return out, errors.Join(failed...)
}

// lend copies the shared phase of a finished point into point i's run
// folder when that folder has no such phase; it reports whether it did.
// A lender is a point with the same shared phase whose manifest records
// the phase done under the same settings and whose folder no other
// process holds.
func (s *Sweep) lend(i int) (bool, error) {
	plan := s.Plans[i]
	key := plan.sharedKey()
	if key == "" {
		return false, nil
	}
	dst := s.Dir(i)
	if _, err := os.Stat(filepath.Join(dst, plan.Shared.Label)); err == nil {
		return false, nil // its own, finished or to be resumed
	}
	for _, j := range s.order {
		if j == i || s.Plans[j].sharedKey() != key {
			continue
		}
		ok, err := s.lendFrom(j, i)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// lendFrom copies point j's shared phase into point i's folder if j has
// finished it and no other process holds j's folder.
func (s *Sweep) lendFrom(j, i int) (bool, error) {
	phase := s.Plans[i].Shared
	src, dst := s.Dir(j), s.Dir(i)
	if _, err := os.Stat(filepath.Join(src, rundir.ManifestName)); err != nil {
		return false, nil
	}
	from, err := rundir.Open(src, rundir.Resume, nil)
	if err != nil {
		return false, nil // in use, or unreadable: another lender may do
	}
	defer from.Close()
	m := from.Manifest
	if m == nil || differences(s.Plans[i].Run, m.Settings) != "" {
		return false, nil
	}
	ph := m.Phases[phase.Label]
	if ph == nil || ph.State != rundir.StateDone || ph.Epochs != phase.Epochs || ph.CheckpointEpoch != phase.Epochs ||
		differences(phase.Settings, ph.Settings) != "" {
		return false, nil
	}
	to, err := rundir.Open(dst, rundir.Resume, nil)
	if err != nil {
		return false, err
	}
	defer to.Close()
	if err := copyPhase(filepath.Join(src, phase.Label), dst, phase.Label); err != nil {
		return false, fmt.Errorf("copying %s's %s: %w", src, phase.Label, err)
	}
	return true, nil
}

// copyPhase copies the files of the phase folder src into dst/label: into
// a temporary folder first, renamed when complete, so a copy killed
// mid-way leaves no phase behind (the next copy removes its remains).
func copyPhase(src, dst, label string) error {
	here, err := os.ReadDir(dst)
	if err != nil {
		return err
	}
	for _, e := range here {
		if strings.HasPrefix(e.Name(), "."+label+".copy-") {
			if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	}
	tmp, err := os.MkdirTemp(dst, "."+label+".copy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone once renamed
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // temporary files of writes in progress
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(tmp, e.Name()), func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dst, label)); err != nil {
		return err
	}
	return atomicfile.SyncDir(dst)
}
