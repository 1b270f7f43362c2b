package gradcam

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg/clips"
	"github.com/noether-vk/noether-vk/svg/pendulum"
	"github.com/noether-vk/noether-vk/svg/ramp"
)

// Task is the run folders' task that Grad-CAM reads first: the pixel
// pendulum. It reads ramp runs too (RampTask).
const Task = "pixel-pendulum"

// RampTask is the built-in ramp scenes' task (video.Ramp).
const RampTask = string(video.Ramp)

// Run is what Grad-CAM needs of a trained pixel-pendulum or ramp run
// folder: its data, to render the test sequences, and its trained
// embedding g_phi.
type Run struct {
	Dir  string
	Task string // Task or RampTask
	// Data is the pixel pendulum's (Task), Ramp the ramp's (RampTask).
	Data pendulum.Config
	Ramp ramp.Config
	// Embedding is the run's g_phi (video.Embedding) and Params its
	// trained parameters, from the noether phase's checkpoint.
	Embedding noether.Model
	Params    map[string][]float32
	// Epochs is how many epochs the noether phase trained.
	Epochs int
}

// LoadRun reads a pixel-pendulum run folder (noether-vk train --task
// pixel-pendulum): its manifest must show a noether phase trained to
// the end, whose settings give the data and the embedding, and whose
// checkpoint holds the embedding's parameters. Each way a folder can fall
// short is an error that names it and what to do.
func LoadRun(dir string) (*Run, error) {
	m, err := rundir.ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("gradcam: %s is not a run folder (no %s): give the --out folder of noether-vk train --task %s", dir, rundir.ManifestName, Task)
	}
	if err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	task := m.Settings["task"]
	if task != Task && task != RampTask {
		return nil, fmt.Errorf("gradcam: %s holds a run of task %q: Grad-CAM maps the Noether embedding of video frames of --task %s or %s runs", dir, task, Task, RampTask)
	}
	label := string(video.Noether)
	ph := m.Phases[label]
	if ph == nil || ph.State != rundir.StateDone {
		return nil, fmt.Errorf("gradcam: %s has no trained %s phase (%s): train it with noether-vk train --task %s --method %s --out %s (add --resume to continue a run)",
			dir, label, phaseStates(m), task, label, dir)
	}
	r := &Run{Dir: dir, Task: task, Epochs: ph.Epochs}
	var data any = &r.Data
	if task == RampTask {
		data = &r.Ramp
	}
	if err := decodeStruct(ph.Settings["data"], data); err != nil {
		return nil, fmt.Errorf("gradcam: %s: the %s phase's data setting: %w", dir, label, err)
	}
	h, w := r.Data.Height, r.Data.Width
	if task == RampTask {
		h, w = r.Ramp.Height, r.Ramp.Width
	}
	dim, err := strconv.Atoi(ph.Settings["embedding-dim"])
	if err != nil || dim < 1 {
		return nil, fmt.Errorf("gradcam: %s: the %s phase's embedding-dim setting %q is not a size", dir, label, ph.Settings["embedding-dim"])
	}
	if err := video.CheckEmbedSize(h); err != nil || w != h {
		return nil, fmt.Errorf("gradcam: %s: frames of %dx%d: the embedding takes square frames of a side divisible by 4", dir, h, w)
	}
	r.Embedding = video.Embedding(clips.Channels, h, dim)
	path := filepath.Join(dir, label, rundir.CheckpointName)
	ck, err := rundir.ReadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	if ck == nil {
		return nil, fmt.Errorf("gradcam: %s: the manifest says the %s phase is done, but %s is missing: train the phase again (--overwrite, or delete the phase's folder and --resume)", dir, label, path)
	}
	r.Params = map[string][]float32{}
	for _, p := range r.Embedding.Params() {
		t, ok := ck.Tensors[p.Name]
		if !ok || !slices.Equal(t.Shape, p.Shape) {
			return nil, fmt.Errorf("gradcam: %s holds no embedding parameter %s of shape %v (found %v): it does not match the run's settings", path, p.Name, p.Shape, t.Shape)
		}
		r.Params[p.Name] = t.Data
	}
	return r, nil
}

// phaseStates lists a manifest's phases and their states.
func phaseStates(m *rundir.Manifest) string {
	if len(m.Phases) == 0 {
		return "no phases"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(m.Phases)) {
		parts = append(parts, name+" "+m.Phases[name].State)
	}
	return "phases: " + strings.Join(parts, ", ")
}
