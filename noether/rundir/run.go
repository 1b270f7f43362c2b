package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/noether"
)

// Mode says what a run may do with a folder that holds an earlier run.
type Mode int

const (
	// Fresh refuses a folder that holds a run.
	Fresh Mode = iota
	// Resume continues the run the folder holds, if any; whether its
	// settings agree is for the trainer's checkpoints to say.
	Resume
	// Overwrite removes the run the folder holds (what a run writes
	// there, nothing else) when Begin is called.
	Overwrite
)

// ErrHoldsRun is wrapped by Open's error for a Fresh run into a folder
// that holds another run's results.
var ErrHoldsRun = errors.New("holds another run")

// ErrInUse is wrapped by Open's error when another process holds the
// folder's lock.
var ErrInUse = errors.New("is in use")

// LockName is the lock file every run takes in its folder.
const LockName = ".lock"

// Run is a run folder held by this process: no other run writes into it
// until Close. Manifest is the folder's record; the caller fills it in
// and writes it with Save, and the Sink keeps each phase's state there.
type Run struct {
	Dir      string
	Manifest *Manifest // as found (nil: none), until the caller sets it
	mode     Mode
	existing []string // what an earlier run left, relative to Dir
	lock     *os.File
}

// Open takes the run folder dir (creating it) for one run: it takes the
// folder's lock, failing at once, with the holder's process id, when
// another run holds it, and finds what earlier runs left there: the
// manifest and the entries matching outputs (file names or glob patterns
// relative to dir, the entries a run writes). In Fresh mode a folder that
// holds any of them is refused, naming --resume and --overwrite. Open
// changes nothing in the folder but the lock file.
func Open(dir string, mode Mode, outputs []string) (*Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("rundir: cannot create the run folder %s: %w", dir, err)
	}
	lock, err := takeLock(filepath.Join(dir, LockName))
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, mode: mode, lock: lock}
	fail := func(err error) (*Run, error) {
		r.Close()
		return nil, err
	}
	for _, pat := range append([]string{ManifestName}, outputs...) {
		found, err := filepath.Glob(filepath.Join(globEscape(dir), pat))
		if err != nil {
			return fail(fmt.Errorf("rundir: output pattern %q: %w", pat, err))
		}
		for _, f := range found {
			r.existing = append(r.existing, filepath.Base(f))
		}
	}
	if len(r.existing) > 0 && mode == Fresh {
		return fail(fmt.Errorf("rundir: %s %w (%s): continue that run with --resume (under the same settings), or replace it with --overwrite",
			dir, ErrHoldsRun, strings.Join(r.existing, ", ")))
	}
	if mode != Overwrite {
		if r.Manifest, err = readManifestIfAny(dir); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// globEscape quotes the glob metacharacters of a literal path.
func globEscape(p string) string {
	var b strings.Builder
	for _, c := range p {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Begin readies the folder for writing: in Overwrite mode it removes
// what earlier runs left (found by Open), and in every mode it removes
// the temporary files that writes killed mid-way left (by kill -9, a
// power loss) in the folder and in what earlier runs left. It returns
// what it removed. Call it once everything has been checked, so that a
// command refused for a bad flag loses nothing.
func (r *Run) Begin() ([]string, error) {
	var removed []string
	if r.mode == Overwrite {
		for _, e := range r.existing {
			p := filepath.Join(r.Dir, e)
			if err := os.RemoveAll(p); err != nil {
				return removed, fmt.Errorf("rundir: --overwrite: removing %s: %w", p, err)
			}
			removed = append(removed, p)
		}
		r.existing, r.Manifest = nil, nil
	}
	temps, err := atomicfile.RemoveTemps(r.Dir)
	removed = append(removed, temps...)
	if err != nil {
		return removed, fmt.Errorf("rundir: %w", err)
	}
	for _, e := range r.existing {
		err := filepath.WalkDir(filepath.Join(r.Dir, e), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			temps, err := atomicfile.RemoveTemps(p)
			removed = append(removed, temps...)
			return err
		})
		if err != nil {
			return removed, fmt.Errorf("rundir: %w", err)
		}
	}
	return removed, nil
}

// Save writes the manifest.
func (r *Run) Save() error {
	if r.Manifest == nil {
		return fmt.Errorf("rundir: %s: no manifest to save", r.Dir)
	}
	return r.Manifest.Write(r.Dir)
}

// Sink keeps the manifest's phase records up to date with a trainer's
// events, saving it at each checkpoint and at each phase's start and end:
// a phase missing from Manifest.Phases is not recorded. Rates changed on
// resuming are appended to the phase's Changes.
func (r *Run) Sink() noether.Sink {
	return noether.SinkFunc(func(e noether.Event) error {
		if r.Manifest == nil {
			return nil
		}
		p := r.Manifest.Phases[e.PhaseName()]
		if p == nil {
			return nil
		}
		switch ev := e.(type) {
		case noether.StartEvent:
			p.State, p.Error = StateRunning, ""
			for _, c := range ev.Changes {
				p.Changes = append(p.Changes, SettingChange{Epoch: ev.Resumed, Name: c.Name, From: c.From, To: c.To})
			}
		case noether.CheckpointEvent:
			p.CheckpointEpoch, p.CheckpointStep = ev.Epoch, ev.Step
		case noether.DoneEvent:
			p.State = StateDone
		case noether.StopEvent:
			p.State = StateStopped
		default:
			return nil
		}
		return r.Save()
	})
}

// Close releases the folder's lock.
func (r *Run) Close() error {
	if r.lock == nil {
		return nil
	}
	err := releaseLock(r.lock)
	r.lock = nil
	return err
}

// Now is the time stamp manifests record.
func Now() string { return time.Now().UTC().Format(time.RFC3339) }
