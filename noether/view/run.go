package view

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/kernels/compose"
	"github.com/noether-vk/noether-vk/noether/rundir"
)

// Run is what the viewer shows of a training run, read from its folder
// (Folder) or fed by the trainer's events (Live).
type Run struct {
	Dir, Task string
	// Phases are the training phases in the order they ran.
	Phases   []Phase
	Results  []Result
	Rollouts []Rollout
	// Strips are a video run's strips (truth on top, then each method's
	// prediction), one per test episode.
	Strips  []*compose.Raster
	GradCAM *GradCAM
	// Now is the training in progress (Phase empty: none known).
	Now Progress
	// Note is a line about the data: a file that could not be read, events
	// dropped.
	Note string
}

// Phase is one training phase: its loss per epoch so far.
type Phase struct {
	Name   string
	Epoch  int    // the last epoch logged
	Epochs int    // the target (0: unknown)
	State  string // a rundir.State* value ("" unknown)
	Losses []float64
}

// Result is one method's numbers (test_rmse, test_mse, ...).
type Result struct {
	Method, State, Error string
	Numbers              map[string]float64
}

// Progress is where training stands.
type Progress struct {
	Phase               string
	Epoch, Epochs, Step int
	Loss                float64
	Done                bool // the phase ended
}

// GradCAM holds the Grad-CAM maps of a video run (gradcam/maps.safetensors):
// Frames [N, T, 3, H, W] and Heat [K, N, T, H, W], both in [0, 1], and
// Explained [K], each principal component's share of the variance.
type GradCAM struct {
	N, T, H, W, K int
	Frames, Heat  []float32
	Explained     []float32
}

// GradCAMName is where a run folder keeps its Grad-CAM maps.
var GradCAMName = filepath.Join("gradcam", "maps.safetensors")

// Video reports whether the run predicts frames (a video task) rather
// than phase-space states.
func (r *Run) Video() bool {
	if len(r.Strips) > 0 || r.GradCAM != nil {
		return true
	}
	return slices.ContainsFunc(r.Rollouts, func(o Rollout) bool { return len(o.Shape) == 3 })
}

// Examples is the number of examples the viewer can step through.
func (r *Run) Examples() int {
	n := len(r.Strips)
	for _, o := range r.Rollouts {
		n = max(n, len(o.Truth))
	}
	if r.GradCAM != nil {
		n = max(n, r.GradCAM.N)
	}
	return n
}

// Steps is the length of the animation of example i: its longest
// rollout, or the Grad-CAM sequence; 1 when nothing moves.
func (r *Run) Steps(i int) int {
	n := 1
	for _, o := range r.Rollouts {
		if i < len(o.Truth) {
			n = max(n, len(o.Truth[i]))
		}
	}
	if r.GradCAM != nil {
		n = max(n, r.GradCAM.T)
	}
	return n
}

// Folder follows a run folder, finished or still being written: Refresh
// re-reads the files that changed since the last call.
type Folder struct {
	dir    string
	run    Run
	stamps map[string]stamp
	order  map[string]time.Time // each phase's first sighting, for their order
}

type stamp struct {
	size int64
	mod  time.Time
}

// OpenFolder reads the run folder dir.
func OpenFolder(dir string) (*Folder, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("view: %s is not a folder: give the run folder a train command wrote (its --out)", dir)
	}
	f := &Folder{dir: dir, run: Run{Dir: dir}, stamps: map[string]stamp{}, order: map[string]time.Time{}}
	if _, err := f.Refresh(); err != nil {
		return nil, err
	}
	r := &f.run
	if r.Task == "" && len(r.Phases) == 0 && len(r.Rollouts) == 0 && len(r.Strips) == 0 && r.GradCAM == nil {
		return nil, fmt.Errorf("view: %s holds no run: no %s, no phase folder with an %s, no %s, no strips, no %s; give the folder a train command wrote (its --out)",
			dir, rundir.ManifestName, rundir.EventLogName, RolloutsName, GradCAMName)
	}
	return f, nil
}

// Run is the run as last read. It is replaced, not changed, by Refresh.
func (f *Folder) Run() *Run { return &f.run }

// changed reports whether the file at rel changed since the last look
// (and notes its new stamp); a missing file has not changed unless it
// existed before.
func (f *Folder) changed(rel string) (bool, bool) {
	fi, err := os.Stat(filepath.Join(f.dir, rel))
	old, seen := f.stamps[rel]
	if err != nil {
		delete(f.stamps, rel)
		return seen, false
	}
	now := stamp{fi.Size(), fi.ModTime()}
	f.stamps[rel] = now
	return !seen || now != old, true
}

// Refresh re-reads what changed and reports whether anything did. A file
// that cannot be read is named in Run.Note and its last good content kept,
// except at the first read, when it is an error.
func (f *Folder) Refresh() (bool, error) {
	first := len(f.stamps) == 0
	next := f.run
	var problems []error
	any := false
	if ch, ok := f.changed(rundir.ManifestName); ch {
		any = true
		if ok {
			if m, err := rundir.ReadManifest(f.dir); err != nil {
				problems = append(problems, err)
			} else if m != nil {
				next.Task = m.Settings["task"]
				next.Results = results(m)
				next.Phases = withManifest(next.Phases, m)
			}
		}
	}
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return false, fmt.Errorf("view: %w", err)
	}
	var strips []string
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() {
			log := filepath.Join(name, rundir.EventLogName)
			ch, ok := f.changed(log)
			if !ch || !ok {
				continue
			}
			any = true
			if _, known := f.order[name]; !known {
				fi, _ := os.Stat(filepath.Join(f.dir, log))
				f.order[name] = fi.ModTime()
			}
			losses, last, err := readLosses(filepath.Join(f.dir, log))
			if err != nil {
				problems = append(problems, err)
				continue
			}
			next.Phases = setLosses(next.Phases, name, losses, last)
		} else if m, _ := filepath.Match("strip_episode*.png", name); m {
			strips = append(strips, name)
		}
	}
	// Phases run one after another, so their logs appear in that order;
	// phases without a log yet go last.
	sort.SliceStable(next.Phases, func(a, b int) bool {
		ta, tb := f.order[next.Phases[a].Name], f.order[next.Phases[b].Name]
		return !ta.IsZero() && (tb.IsZero() || ta.Before(tb))
	})
	for _, p := range next.Phases {
		if len(p.Losses) > 0 {
			next.Now = Progress{Phase: p.Name, Epoch: p.Epoch, Epochs: p.Epochs, Loss: p.Losses[len(p.Losses)-1], Done: p.State == rundir.StateDone}
		}
	}
	stripsChanged := len(strips) != len(next.Strips)
	for _, s := range strips {
		if ch, _ := f.changed(s); ch {
			stripsChanged = true
		}
	}
	if stripsChanged {
		any = true
		next.Strips = nil
		for _, s := range strips {
			img, err := readPNG(filepath.Join(f.dir, s))
			if err != nil {
				problems = append(problems, err)
				continue
			}
			next.Strips = append(next.Strips, img)
		}
	}
	if ch, ok := f.changed(RolloutsName); ch {
		any = true
		next.Rollouts = nil
		if ok {
			rs, err := ReadRollouts(f.dir)
			if err != nil {
				problems = append(problems, err)
			}
			next.Rollouts = rs
		}
	}
	if ch, ok := f.changed(GradCAMName); ch {
		any = true
		next.GradCAM = nil
		if ok {
			g, err := ReadGradCAM(filepath.Join(f.dir, GradCAMName))
			if err != nil {
				problems = append(problems, err)
			}
			next.GradCAM = g
		}
	}
	err = errors.Join(problems...)
	if err != nil && first {
		return false, err
	}
	next.Note = ""
	if err != nil {
		next.Note = err.Error()
	}
	f.run = next
	return any, nil
}

// results are the manifest's results in a stable order.
func results(m *rundir.Manifest) []Result {
	var out []Result
	for name, r := range m.Results {
		out = append(out, Result{Method: name, State: r.State, Error: r.Error, Numbers: r.Numbers})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Method < out[b].Method })
	return out
}

// withManifest updates each phase's target and state from the manifest,
// adding the phases it lists that have no events yet.
func withManifest(phases []Phase, m *rundir.Manifest) []Phase {
	phases = slices.Clone(phases)
	for name, st := range m.Phases {
		i := slices.IndexFunc(phases, func(p Phase) bool { return p.Name == name })
		if i < 0 {
			phases = append(phases, Phase{Name: name})
			i = len(phases) - 1
		}
		phases[i].Epochs, phases[i].State = st.Epochs, st.State
	}
	return phases
}

// setLosses sets phase name's losses and last epoch, adding the phase.
func setLosses(phases []Phase, name string, losses []float64, epoch int) []Phase {
	phases = slices.Clone(phases)
	i := slices.IndexFunc(phases, func(p Phase) bool { return p.Name == name })
	if i < 0 {
		phases = append(phases, Phase{Name: name})
		i = len(phases) - 1
	}
	phases[i].Losses, phases[i].Epoch = losses, epoch
	return phases
}

// readLosses is an event log's loss per epoch and its last epoch.
func readLosses(path string) ([]float64, int, error) {
	recs, err := rundir.ReadEventLog(path)
	if err != nil {
		return nil, 0, fmt.Errorf("view: %w", err)
	}
	var out []float64
	last := 0
	for _, r := range recs {
		if l, ok := r["loss"].(float64); ok {
			out = append(out, l)
		} else if s, ok := r["loss"].(string); ok && s != "" {
			out = append(out, nonFinite(s))
		}
		if e, ok := r["epoch"].(float64); ok {
			last = int(e)
		}
	}
	return out, last, nil
}

// readPNG reads a PNG picture as a raster.
func readPNG(path string) (*compose.Raster, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("view: %s: %w", path, err)
	}
	return rasterOf(img), nil
}

// rasterOf converts a picture to RGB (alpha dropped).
func rasterOf(img image.Image) *compose.Raster {
	b := img.Bounds()
	r := &compose.Raster{W: b.Dx(), H: b.Dy(), Pix: make([]compose.RGB, b.Dx()*b.Dy())}
	for y := range r.H {
		for x := range r.W {
			cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			r.Pix[y*r.W+x] = compose.RGB(cr>>8)<<16 | compose.RGB(cg>>8)<<8 | compose.RGB(cb>>8)
		}
	}
	return r
}

// ReadGradCAM reads Grad-CAM maps written by noether-vk gradcam.
func ReadGradCAM(path string) (*GradCAM, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("view: %w", err)
		}
		return nil, fmt.Errorf("view: Grad-CAM maps: %w", err)
	}
	frames, heat, expl := f.Tensors["frames"], f.Tensors["heat"], f.Tensors["explained"]
	if len(frames.Shape) != 5 || frames.Shape[2] != 3 || len(heat.Shape) != 5 || len(expl.Shape) != 1 {
		return nil, fmt.Errorf("view: %s: want frames [N,T,3,H,W], heat [K,N,T,H,W] and explained [K]; found frames %v, heat %v, explained %v",
			path, frames.Shape, heat.Shape, expl.Shape)
	}
	g := &GradCAM{N: frames.Shape[0], T: frames.Shape[1], H: frames.Shape[3], W: frames.Shape[4], K: heat.Shape[0],
		Frames: frames.Data, Heat: heat.Data, Explained: expl.Data}
	if !slices.Equal(heat.Shape[1:], []int{g.N, g.T, g.H, g.W}) || expl.Shape[0] != g.K {
		return nil, fmt.Errorf("view: %s: heat %v and explained %v do not fit frames %v", path, heat.Shape, expl.Shape, frames.Shape)
	}
	return g, nil
}
